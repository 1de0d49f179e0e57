"""The production web server as an attacker meets it: gunicorn trusts no forwarding header
(Django alone decides, through SECURE_PROXY_SSL_HEADER), names no server software, and no log
holds an applicant's token; a mistyped setting stops start-up instead of meaning "off"."""

from __future__ import annotations

import http.client
import io
import logging
import secrets
import string
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from eligibility import settings as project_settings
from eligibility.logs import redact_tokens
from tests.servers import free_port, gunicorn_command
from tests.test_production import ROOT, manage, production_env

HOST = "routes.example.org"


def a_token() -> str:
    """A token as the URLs carry it (letters, digits, - and _), 30 characters long."""
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(30))


# Settings that are mistyped stop start-up


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_a_misspelt_yes_or_no_setting_stops_start_up_naming_it_and_the_accepted_values():
    done = manage("check", env=production_env(SECURE_SSL_REDIRECT="ture"))
    assert done.returncode != 0, done.stdout
    message = last_line(done.stderr)
    assert "SECURE_SSL_REDIRECT" in message
    assert "'ture'" in message
    assert "true" in message and "false" in message


def test_a_number_setting_that_is_not_a_whole_number_stops_start_up_naming_it():
    done = manage("check", env=production_env(NEW_ASSESSMENTS_LIMIT="ten"))
    assert done.returncode != 0, done.stdout
    message = last_line(done.stderr)
    assert message.startswith("django.core.exceptions.ImproperlyConfigured")
    assert "NEW_ASSESSMENTS_LIMIT" in message
    assert "'ten'" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        *[("1", True), ("TRUE", True), (" yes ", True), ("on", True)],
        *[("0", False), ("False", False), ("no", False), ("off", False)],
    ],
)
def test_yes_or_no_settings_accept_the_usual_words(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_SWITCH", value)
    assert project_settings.envbool("SOME_SWITCH", "False") is expected
    assert project_settings.envbool("SOME_SWITCH", "True") is expected


def test_a_yes_or_no_setting_left_empty_takes_its_default(monkeypatch):
    monkeypatch.setenv("SOME_SWITCH", " ")
    assert project_settings.envbool("SOME_SWITCH", "True") is True
    assert project_settings.envbool("SOME_SWITCH", "False") is False


@pytest.mark.parametrize("value", ["ture", "2", "enabled", "y e s"])
def test_any_other_yes_or_no_value_is_refused(monkeypatch, value):
    monkeypatch.setenv("SOME_SWITCH", value)
    with pytest.raises(ImproperlyConfigured, match="SOME_SWITCH"):
        project_settings.envbool("SOME_SWITCH", "False")


def test_a_number_setting_outside_its_range_is_refused_at_both_ends(monkeypatch):
    monkeypatch.setenv("SOME_LIMIT", "-1")
    with pytest.raises(ImproperlyConfigured, match="SOME_LIMIT must be a whole number from 0"):
        project_settings.envint("SOME_LIMIT", "10")
    monkeypatch.setenv("SOME_LIMIT", "0")
    assert project_settings.envint("SOME_LIMIT", "10") == 0
    with pytest.raises(ImproperlyConfigured, match="from 1 to 1000000000, not '0'"):
        project_settings.envint("SOME_LIMIT", "10", least=1)
    monkeypatch.setenv("SOME_LIMIT", "36500")
    assert project_settings.envint("SOME_LIMIT", "10", most=36500) == 36500
    monkeypatch.setenv("SOME_LIMIT", "36501")
    with pytest.raises(ImproperlyConfigured, match="from 0 to 36500, not '36501'"):
        project_settings.envint("SOME_LIMIT", "10", most=36500)
    monkeypatch.setenv("SOME_LIMIT", "9" * 5000)
    with pytest.raises(ImproperlyConfigured, match="SOME_LIMIT must be a whole number"):
        project_settings.envint("SOME_LIMIT", "10")
    monkeypatch.setenv("SOME_LIMIT", " 12 ")
    assert project_settings.envint("SOME_LIMIT", "10") == 12


def test_a_window_of_zero_seconds_is_refused_at_start_up():
    done = manage("check", env=production_env(NEW_ASSESSMENTS_WINDOW_SECONDS="0"))
    assert done.returncode != 0, done.stdout
    assert "NEW_ASSESSMENTS_WINDOW_SECONDS" in last_line(done.stderr)


def test_the_deploy_check_stays_clean_with_the_server_settings():
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert done.returncode == 0, done.stderr


# One redaction for every log


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("GET /a/{t}/results/ HTTP/1.1", "GET /a/***/results/ HTTP/1.1"),
        ("https://routes.example.org/a/{t}/q/age/", "https://routes.example.org/a/***/q/age/"),
        ("Not Found: /a/{t}/", "Not Found: /a/***/"),
        ("/a/{t}", "/a/***"),
        ("next=%2Fa%2F{t}%2Fcheck%2F&x=1", "next=%2Fa%2F***%2Fcheck%2F&x=1"),
        ("/%61/{t}/?x=1", "/%61/***/?x=1"),
        ('"GET /admin/ HTTP/1.1" 200 "-"', '"GET /admin/ HTTP/1.1" 200 "-"'),
    ],
)
def test_a_token_is_cut_from_paths_urls_and_query_strings(logged, expected):
    assert redact_tokens(logged.format(t=a_token())) == expected


def test_a_token_in_an_exception_logged_with_its_traceback_is_redacted_too():
    token = a_token()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(installed_console_filter())
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    try:
        try:
            raise LookupError(f"/a/{token}/results/ is gone")
        except LookupError:
            log.exception("Failed on %s", f"/a/{token}/q/age/")
    finally:
        log.removeHandler(handler)
    written = stream.getvalue()
    assert "LookupError: /a/***/results/ is gone" in written
    assert token not in written


def console_handler() -> logging.Handler:
    """The handler settings.LOGGING installs on the root logger."""
    return next(h for h in logging.getLogger().handlers if h.get_name() == "console")


def installed_console_filter() -> logging.Filter:
    found = [f for f in console_handler().filters if isinstance(f, logging.Filter)]
    assert found, "settings.LOGGING puts no filter on the console handler"
    return found[0]


@pytest.mark.django_db
def test_djangos_not_found_warning_for_an_assessment_url_is_logged_without_the_token(client):
    token = a_token()
    handler = console_handler()
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        assert client.get(f"/a/{token}/").status_code == 404
    finally:
        handler.setStream(previous)
    assert "Not Found: /a/***/" in written.getvalue()
    assert token not in written.getvalue()


# gunicorn as make serve starts it


@dataclass
class Server:
    port: int
    access_log: Path

    def get(self, path: str, **headers: str) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", path, headers={"Host": HOST, **headers})
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """One gunicorn in production settings with SSL redirects on and no proxy header trusted
    by Django. Every plain-HTTP request is redirected before any view runs, so it needs no
    database."""
    here = tmp_path_factory.mktemp("gunicorn")
    port, access_log = free_port(), here / "access.log"
    env = production_env(
        DATABASE_URL=f"sqlite:///{here / 'unused.sqlite3'}", SECURE_SSL_REDIRECT="True"
    )
    env.pop("SECURE_PROXY_SSL_HEADER", None)
    errors = here / "errors.log"
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            gunicorn_command(port, "--threads", "2", "--access-logfile", str(access_log)),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until_up(Server(port, access_log), process, errors)
        yield Server(port, access_log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(server: Server, process: subprocess.Popen[bytes], errors: Path) -> None:
    deadline = time.monotonic() + 60  # a safety limit, not a measurement
    while True:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited: {errors.read_text()}")
        try:
            server.get("/")
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_gunicorns_error_log_writes_a_failing_requests_token_as_stars(tmp_path):
    from gunicorn.config import Config

    from eligibility import gunicorn_conf

    config = Config()
    for name, value in vars(gunicorn_conf).items():
        if name in config.settings:  # as gunicorn reads a config module
            config.set(name, value)
    config.set("errorlog", str(tmp_path / "error.log"))
    log = config.logger_class(config)
    token = a_token()
    try:
        raise ValueError(f"no route for /a/{token}/q/age/")
    except ValueError:
        log.exception("Error handling request %s", f"/a/{token}/results/")
    finally:
        for handler in [h for h in log.error_log.handlers if getattr(h, "_gunicorn", False)]:
            log.error_log.removeHandler(handler)
            handler.close()
    written = (tmp_path / "error.log").read_text()
    assert "Error handling request /a/***/results/" in written
    assert "ValueError: no route for /a/***/q/age/" in written
    assert token not in written


@pytest.mark.parametrize(
    "header",
    [{"X-Forwarded-Proto": "https"}, {"X-Forwarded-Ssl": "on"}, {"X-Forwarded-Protocol": "ssl"}],
    ids=["X-Forwarded-Proto", "X-Forwarded-Ssl", "X-Forwarded-Protocol"],
)
def test_a_plain_http_request_claiming_https_in_a_header_is_still_redirected(server, header):
    response = server.get("/", **header)
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_a_script_name_header_from_the_client_changes_nothing(server):
    response = server.get("/", SCRIPT_NAME="/elsewhere")
    assert response.status == 301
    assert response.getheader("Location") == f"https://{HOST}/"


def test_responses_do_not_name_the_server_software(server):
    response = server.get("/")
    assert response.getheader("Server") is None
    assert "gunicorn" not in str(response.headers).lower()


def test_the_access_log_holds_no_token_from_the_url_the_query_or_the_referer(server):
    in_path, in_query, in_referer = a_token(), a_token(), a_token()
    server.get(
        f"/a/{in_path}/results/?next=%2Fa%2F{in_query}%2Fcheck%2F",
        Referer=f"https://{HOST}/a/{in_referer}/q/age/",
    )
    deadline = time.monotonic() + 30  # a safety limit: the line is written after the response
    while "/results/" not in (logged := server.access_log.read_text()):
        assert time.monotonic() < deadline, f"no access log line in: {logged!r}"
        time.sleep(0.1)
    assert '"GET /a/***/results/?next=%2Fa%2F***%2Fcheck%2F HTTP/1.1" 301' in logged
    assert f'"https://{HOST}/a/***/q/age/"' in logged
    for token in (in_path, in_query, in_referer):
        assert token not in logged


@pytest.mark.parametrize("value", ["abc", "nan", "-1", "0", "61", "inf"])
def test_a_redis_timeout_that_is_no_sane_number_of_seconds_is_refused(monkeypatch, value):
    monkeypatch.setenv("REDIS_TIMEOUT_SECONDS", value)
    with pytest.raises(ImproperlyConfigured, match="REDIS_TIMEOUT_SECONDS must be a number of"):
        project_settings.envseconds("REDIS_TIMEOUT_SECONDS", "0.25", least=0.01, most=60)


def test_a_retention_too_long_to_be_a_date_stops_start_up_instead_of_every_page():
    done = manage("check", env=production_env(ASSESSMENT_RETENTION_DAYS="1000000000"))
    assert done.returncode != 0
    assert "ASSESSMENT_RETENTION_DAYS must be a whole number from 1 to 36500" in done.stderr
