"""No lost answers and nothing in process memory: two tabs answering at once keep both
answers, and one assessment can be completed by alternating requests between two app servers
that share only PostgreSQL and Redis. PostgreSQL only: SQLite serialises all writers."""

from __future__ import annotations

import http.cookiejar
import importlib
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from eligibility.models import Answer, Assessment, Question
from tests.factories import blue_card
from tests.servers import free_port, gunicorn_command

ROOT = Path(__file__).resolve().parent.parent
CORE_QUESTIONS = importlib.import_module(
    "eligibility.migrations.0002_core_questions_and_adviser_group"
).CORE_QUESTIONS


def on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not on_postgresql(),
        reason="needs DATABASE_URL=postgres://… (.ci/run runs the suite on PostgreSQL too)",
    ),
]


@pytest.fixture
def rules(transactional_db):
    """Transactional tests start from an empty database: the core questions and a route."""
    for fields in CORE_QUESTIONS:
        Question.objects.get_or_create(key=fields["key"], defaults=fields)
    blue_card()


def at_once(*jobs) -> list[BaseException]:
    """Run each job in its own thread, released together; the exceptions they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def answering(assessment: Assessment, key: str, value: str):
    def post():
        response = Client().post(
            reverse("question", args=[assessment.token, key]), {"answer": value}
        )
        assert response.status_code == 302, response.status_code

    return post


def test_two_tabs_answering_different_questions_at_once_keep_both_answers(rules):
    for _ in range(10):
        assessment = Assessment.objects.create()
        errors = at_once(
            answering(assessment, "age", "31"),
            answering(assessment, "job_offer_country", "DE"),
        )
        assert errors == []
        assert dict(assessment.answers.values_list("question_key", "value")) == {
            "age": 31,
            "job_offer_country": "DE",
        }


def test_two_tabs_answering_the_same_question_at_once_keep_one_answer_without_error(rules):
    for _ in range(10):
        assessment = Assessment.objects.create()
        errors = at_once(answering(assessment, "age", "31"), answering(assessment, "age", "42"))
        assert errors == []
        assert list(assessment.answers.values_list("question_key", flat=True)) == ["age"]
        assert Answer.objects.get(assessment=assessment).value in (31, 42)


# --- Two app servers --------------------------------------------------------------------------


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {url} ({exc}); .ci/run starts it.")
    return url


def database_url_of_the_tests() -> str:
    db = settings.DATABASES["default"]
    user = urllib.parse.quote(db["USER"] or "")
    password = f":{urllib.parse.quote(db['PASSWORD'])}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """Production settings (plain HTTP on 127.0.0.1) on the test database and one Redis."""
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env.update(
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        SECURE_COOKIES="False",
        DATABASE_URL=database_url_of_the_tests(),
        REDIS_URL=redis_url(),
        CACHE_KEY_PREFIX=f"two-servers-{secrets.token_hex(6)}",
        STATIC_ROOT=str(tmp_path / "static"),
        NEW_ASSESSMENTS_LIMIT="1",
        NEW_ASSESSMENTS_WINDOW_SECONDS="3600",
    )
    return env


@pytest.fixture
def two_servers(rules, production_env) -> Iterator[list[str]]:
    """Two gunicorn servers sharing the test database and one Redis, and nothing else."""
    env = production_env
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )
    servers, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            servers.append(
                subprocess.Popen(
                    gunicorn_command(port, "--log-level", "warning"), cwd=ROOT, env=env
                )
            )
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            wait_until_up(url)
        yield urls
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)


def wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=5)
            return
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One applicant's browser in front of a load balancer that alternates between servers:
    the cookies are shared, the server changes with every request."""

    def __init__(self, servers: list[str]) -> None:
        self.servers = servers
        self.turn = 0
        self.used: list[str] = []
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect()
        )

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        server = self.servers[self.turn % len(self.servers)]
        self.turn += 1
        self.used.append(server)
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(server + path, data=body)
        if data is not None:
            request.add_header("Referer", server + path)
        try:
            with self.opener.open(request, timeout=30) as response:
                return (
                    response.status,
                    response.headers.get("Location", ""),
                    response.read().decode(),
                )
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers.get("Location", ""), exc.read().decode()

    def csrf(self, path: str) -> str:
        status, _, page = self.request(path)
        assert status == 200, (path, status)
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert match, path
        return match.group(1)


ANSWERS = {"age": "30", "job_offer_country": "DE", "offered_salary": "60000"}


def test_one_assessment_can_be_completed_by_alternating_between_two_servers(two_servers):
    browser = Browser(two_servers)
    status, location, _ = browser.request("/start/", {"csrfmiddlewaretoken": browser.csrf("/")})
    assert status == 302 and "/q/" in location, (status, location)
    token = location.split("/")[2]

    steps = 0
    while "/q/" in location:
        key = location.rstrip("/").split("/")[-1]
        token_field = browser.csrf(location)
        data = {"csrfmiddlewaretoken": token_field}
        if key in ANSWERS:
            data["answer"] = ANSWERS[key]
        else:
            data["dont_know"] = "on"
        status, location, page = browser.request(location, data)
        assert status == 302, (key, status, page[:500])
        steps += 1
        assert steps < 40
    assert location == f"/a/{token}/check/"

    status, _, page = browser.request(f"/a/{token}/results/")
    assert status == 200
    assert "EU Blue Card" in page
    assert set(browser.used) == set(two_servers)
    stored = dict(
        Answer.objects.filter(assessment__token=token).values_list("question_key", "value")
    )
    assert stored["job_offer_country"] == "DE"
    assert str(stored["offered_salary"]) == "60000"
    assert Assessment.objects.get(token=token).rules_version


def test_the_rate_limit_and_an_advisers_edit_are_shared_by_both_servers(two_servers):
    first, second = Browser(two_servers[:1]), Browser(two_servers[1:])
    assert first.request("/start/", {"csrfmiddlewaretoken": first.csrf("/")})[0] == 302
    status, _, page = second.request("/start/", {"csrfmiddlewaretoken": second.csrf("/")})
    assert status == 429 and "Too many new assessments" in page

    User.objects.create_superuser("ada", password="a-long-passphrase")
    admin = Browser(two_servers[:1])
    login = {"username": "ada", "password": "a-long-passphrase", "next": "/admin/"}
    status, _, _ = admin.request(
        "/admin/login/", {**login, "csrfmiddlewaretoken": admin.csrf("/admin/login/")}
    )
    assert status == 302
    age = Question.objects.get(key="age")
    form_path = f"/admin/eligibility/question/{age.pk}/change/"
    form = {
        "csrfmiddlewaretoken": admin.csrf(form_path),
        "label": "What is your age today?",
        "short_label": age.short_label,
        "help_text": age.help_text,
        "kind": age.kind,
        "choices": "[]",
        "min_value": "" if age.min_value is None else str(age.min_value),
        "max_value": "" if age.max_value is None else str(age.max_value),
        "section": age.section,
        "order": str(age.order),
        "ask_if": "[]",
    }
    assert admin.request(form_path, form)[0] == 302

    assessment = Assessment.objects.create()
    status, _, page = second.request(f"/a/{assessment.token}/q/age/")
    assert status == 200
    assert "What is your age today?" in page


def mapped_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_a_pdf_asked_for_over_http_is_made_by_a_worker_process_and_downloaded(
    two_servers, production_env
):
    """The web servers queue the PDF; a real `manage.py pdf_worker` makes it; the applicant
    polls the status page and downloads the file. No web process ever loads Pango."""
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="age", value=30)
    token = assessment.token
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "pdf_worker", "--no-startup-delay", "-v0"],
        cwd=ROOT,
        env=production_env,
    )
    try:
        browser = Browser(two_servers)
        csrf = browser.csrf(f"/a/{token}/results/")
        status, status_url, _ = browser.request(f"/a/{token}/pdf/", {"csrfmiddlewaretoken": csrf})
        assert status == 302 and status_url.startswith(f"/a/{token}/pdf/"), status
        deadline = time.monotonic() + 120
        while True:
            status, _, page = browser.request(status_url)
            assert status == 200
            if "Your PDF is ready" in page:
                break
            assert "being prepared" in page, page
            assert time.monotonic() < deadline, "the worker made no PDF in 120 s"
            time.sleep(0.3)
        opener = urllib.request.build_opener()
        with opener.open(f"{two_servers[0]}{status_url}file/", timeout=30) as response:
            assert response.headers["Content-Type"] == "application/pdf"
            assert response.read().startswith(b"%PDF-")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert worker.returncode == 0  # stopped between PDFs: a clean exit
    web_workers = gunicorn_workers()
    assert len(web_workers) == 2
    for pid in web_workers:
        assert "libpango" not in mapped_libraries(pid)


def gunicorn_workers() -> list[int]:
    """The worker processes of the gunicorn servers this test process started."""
    parents, commands = {}, {}
    for process in Path("/proc").glob("[0-9]*"):
        try:
            stat = (process / "stat").read_text()
            commands[int(process.name)] = (process / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(process.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    servers = {
        pid
        for pid, parent in parents.items()
        if parent == os.getpid() and b"gunicorn" in commands.get(pid, b"")
    }
    return [pid for pid, parent in parents.items() if parent in servers]
