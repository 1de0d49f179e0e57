"""Production readiness: hardened settings that fail loudly, throttled admin logins, an
applicant rate limit, the audit trail of rule changes, purging old answers, and rules cached
across processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from eligibility import rules, throttle
from eligibility.models import Answer, Assessment, Question, RequirementValue
from tests.factories import RequirementFactory, RouteFactory, blue_card

ROOT = Path(__file__).resolve().parent.parent


def production_env(**extra: str) -> dict[str, str]:
    keep = {"PATH", "HOME", "LANG", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="routes.example.org",
        CSRF_TRUSTED_ORIGINS="https://routes.example.org",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_setting(expression: str, **extra: str) -> object:
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({expression}))"
    )
    env = production_env(DJANGO_SETTINGS_MODULE="eligibility.settings", **extra)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# Settings


def test_the_deploy_check_is_clean_with_production_settings():
    done = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues" in done.stdout


def test_starting_without_a_secret_key_in_production_fails_with_a_clear_message():
    env = production_env()
    del env["SECRET_KEY"]
    done = manage("check", env=env)
    assert done.returncode != 0
    assert "SECRET_KEY must be set in the environment when DEBUG is off." in done.stderr


def test_production_sends_hsts_and_secure_cookies_and_serves_hashed_static_files():
    got = production_setting(
        "[settings.SECURE_HSTS_SECONDS, settings.SESSION_COOKIE_SECURE, "
        "settings.CSRF_COOKIE_SECURE, settings.SECURE_SSL_REDIRECT, "
        "settings.SECURE_REFERRER_POLICY, settings.X_FRAME_OPTIONS, "
        "settings.STORAGES['staticfiles']['BACKEND']]"
    )
    assert got == [
        31536000,
        True,
        True,
        True,
        "same-origin",
        "DENY",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def test_behind_a_proxy_the_forwarded_protocol_header_is_trusted_only_when_configured():
    assert production_setting("getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)") is None
    assert production_setting(
        "settings.SECURE_PROXY_SSL_HEADER", SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https"
    ) == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_with_redis_the_cache_and_sessions_are_shared_and_without_it_sessions_are_in_the_db():
    shared = production_setting(
        "[settings.CACHES['default']['BACKEND'], settings.SESSION_ENGINE, "
        "settings.CACHES['default']['OPTIONS']['IGNORE_EXCEPTIONS']]",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert shared == [
        "django_redis.cache.RedisCache",
        "django.contrib.sessions.backends.cached_db",
        True,  # a Redis outage is a cache miss (tests/test_redis_outage.py)
    ]
    alone = production_setting("settings.SESSION_ENGINE")
    assert alone == "django.contrib.sessions.backends.db"


def test_the_floor_view_for_benchmarks_is_not_mounted_outside_bench_mode():
    with pytest.raises(Resolver404):
        resolve("/bench/floor/")


# Admin login throttling


@pytest.fixture
def adviser(db):
    return User.objects.create_user("ada", password="a-long-passphrase", is_staff=True)


def log_in(client, password: str):
    return client.post(
        reverse("admin:login"), {"username": "ada", "password": password, "next": "/admin/"}
    )


def test_too_many_failed_admin_logins_block_that_login_with_a_clear_message(client, adviser):
    for _ in range(4):
        assert log_in(client, "wrong").status_code == 200
    assert log_in(client, "wrong").status_code == 429
    blocked = log_in(client, "a-long-passphrase")
    assert blocked.status_code == 429
    page = blocked.content.decode()
    assert "Too many failed attempts" in page
    assert "Try again in 15 minutes." in page
    assert blocked["Retry-After"] == "900"


def test_a_blocked_adviser_can_log_in_again_after_the_cool_off(client, adviser):
    for _ in range(6):
        log_in(client, "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))
    response = log_in(client, "a-long-passphrase")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_another_adviser_is_not_blocked_by_someone_elses_failures(client, adviser):
    User.objects.create_user("grace", password="another-passphrase", is_staff=True)
    for _ in range(6):
        log_in(client, "wrong")
    response = client.post(
        reverse("admin:login"), {"username": "grace", "password": "another-passphrase"}
    )
    assert response.status_code == 302


# Applicant rate limit (the start view is tested in test_concurrency and below once mounted)


def request_from(ip: str, forwarded: str = ""):
    request = RequestFactory().post("/start/", REMOTE_ADDR=ip)
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return request


def test_a_client_may_start_ten_assessments_a_minute_and_is_then_told_to_wait():
    allowed = [throttle.seconds_until_allowed(request_from("203.0.113.7")) for _ in range(10)]
    assert allowed == [0] * 10
    assert 1 <= throttle.seconds_until_allowed(request_from("203.0.113.7")) <= 60
    assert throttle.seconds_until_allowed(request_from("198.51.100.2")) == 0


def test_the_client_ip_comes_from_our_own_proxies_only(settings):
    assert throttle.client_ip(request_from("10.0.0.1", "6.6.6.6")) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert throttle.client_ip(request_from("10.0.0.1", "6.6.6.6, 203.0.113.7")) == "203.0.113.7"
    assert throttle.client_ip(request_from("10.0.0.1", "")) == "10.0.0.1"


@pytest.mark.django_db
def test_over_the_limit_starting_an_assessment_gets_a_readable_429_page(client, settings):
    settings.NEW_ASSESSMENTS_LIMIT = 2
    for _ in range(2):
        assert client.post(reverse("begin")).status_code == 302
    response = client.post(reverse("begin"))
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    page = response.content.decode()
    assert "Too many new assessments" in page
    assert "Please try again in 1 minute." in page
    assert Assessment.objects.count() == 2


# The audit trail


def question_form(question: Question, **changes: str) -> dict[str, str]:
    """The admin's change form for `question` as it is, with `changes`."""
    return {
        "label": question.label,
        "short_label": question.short_label,
        "help_text": question.help_text,
        "kind": question.kind,
        "choices": json.dumps(question.choices),
        "min_value": "" if question.min_value is None else str(question.min_value),
        "max_value": "" if question.max_value is None else str(question.max_value),
        "section": question.section,
        "order": str(question.order),
        "ask_if": json.dumps(question.ask_if),
        **changes,
    }


def test_an_advisers_rule_change_in_the_admin_records_who_when_and_what(client, adviser):
    adviser.is_superuser = True
    adviser.save()
    client.force_login(adviser)
    question = Question.objects.get(key="age")
    data = question_form(question, label="How old are you now?")
    before = timezone.now()
    response = client.post(reverse("admin:eligibility_question_change", args=[question.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]

    entry = LogEntry.objects.get_for_object(question).get()
    assert entry.actor == adviser
    assert entry.timestamp >= before
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.changes_dict == {"label": [question.label, "How old are you now?"]}
    listing = client.get(reverse("admin:auditlog_logentry_changelist"))
    assert listing.status_code == 200
    assert "How old are you?" in listing.content.decode() or "age" in listing.content.decode()


@pytest.mark.django_db
def test_adding_and_deleting_requirements_is_recorded_too():
    route = RouteFactory()
    requirement = RequirementFactory(route=route, value=40)
    requirement_id = requirement.pk
    requirement.delete()
    actions = list(
        LogEntry.objects.filter(object_pk=str(requirement_id), content_type__model="requirement")
        .order_by("timestamp")
        .values_list("action", flat=True)
    )
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.DELETE]


@pytest.mark.django_db
def test_changing_a_rules_dated_value_is_recorded_too():
    route = blue_card()
    value = RequirementValue.objects.get(
        requirement__route=route, effective_from=dt.date(2026, 1, 1)
    )
    value.value = 52000
    value.save()
    entry = LogEntry.objects.get_for_object(value).get(action=LogEntry.Action.UPDATE)
    assert entry.changes_dict["value"] == ["50700", "52000"]


@pytest.mark.django_db
def test_applicants_answers_are_not_audited():
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="age", value=30)
    assert not LogEntry.objects.filter(content_type__app_label="eligibility").exclude(
        content_type__model__in=[
            "question",
            "route",
            "requirement",
            "requirementvalue",
            "keyfact",
            "openquestion",
        ]
    )


# Purging old answers


@pytest.mark.django_db
def test_purge_deletes_assessments_older_than_the_retention_period_with_their_answers():
    old = Assessment.objects.create()
    Answer.objects.create(assessment=old, question_key="age", value=30)
    Assessment.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    recent = Assessment.objects.create()
    Assessment.objects.filter(pk=recent.pk).update(
        created_at=timezone.now() - dt.timedelta(days=29)
    )
    out = StringIO()
    call_command("purge_assessments", stdout=out)
    assert out.getvalue() == (
        "Deleted 1 assessment older than 30 days.\nDeleted 0 stored PDFs older than 24 hours.\n"
    )
    assert list(Assessment.objects.all()) == [recent]
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_purge_takes_the_period_from_the_command_line_or_the_setting(settings):
    assessment = Assessment.objects.create()
    Assessment.objects.update(created_at=timezone.now() - dt.timedelta(days=8))
    settings.ASSESSMENT_RETENTION_DAYS = 10
    call_command("purge_assessments", stdout=StringIO())
    assert Assessment.objects.filter(pk=assessment.pk).exists()
    out = StringIO()
    call_command("purge_assessments", "--older-than", "7", stdout=out)
    assert out.getvalue().splitlines()[0] == "Deleted 1 assessment older than 7 days."


# Cached rules


@pytest.mark.django_db
def test_the_cached_rules_are_the_published_rules_and_cost_no_query_the_second_time(
    django_assert_num_queries,
):
    blue_card()
    first = rules.current_rulebook()
    assert first == rules.load_rulebook()
    with django_assert_num_queries(0):
        assert rules.current_rulebook() is first


@pytest.mark.django_db
def test_another_process_reads_the_rules_from_the_shared_cache_without_queries(
    django_assert_num_queries,
):
    blue_card()
    book = rules.current_rulebook()
    rules.forget_cached_rulebook()  # as a fresh process sharing the same cache
    with django_assert_num_queries(0):
        assert rules.current_rulebook() == book


def the_2026_salary_threshold() -> RequirementValue:
    return RequirementValue.objects.get(
        requirement__route__slug="de-blue-card",
        requirement__question__key="offered_salary",
        effective_from=dt.date(2026, 1, 1),
    )


@pytest.mark.django_db
def test_an_advisers_edit_is_seen_by_the_next_request():
    blue_card()
    before = rules.current_rulebook()
    threshold = the_2026_salary_threshold()
    threshold.value = 52000
    threshold.save()
    after = rules.current_rulebook()
    assert after.version != before.version
    salary = next(r for r in after.routes[0].requirements if r.id == threshold.requirement_id)
    assert salary.value_on(dt.date(2026, 6, 1)).value == 52000


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 40])
def test_loading_rules_into_the_cache_costs_the_same_queries_for_any_number_of_routes(
    count, django_assert_num_queries
):
    for _ in range(count):
        RequirementFactory(route=RouteFactory())
    # Questions, routes, requirements, their values, key facts, open questions, next steps.
    with django_assert_num_queries(7):
        rules.current_rulebook()


# Mid-assessment rule edits and enumeration


@pytest.mark.django_db
def test_an_adviser_editing_a_route_mid_assessment_causes_no_error_and_results_record_it(client):
    blue_card()
    assessment = Assessment.objects.create()
    url = reverse("question", args=[assessment.token, "citizenship"])
    assert client.post(url, {"answer": "IN"}).status_code == 302
    url = reverse("question", args=[assessment.token, "job_offer_country"])
    assert client.post(url, {"answer": "DE"}).status_code == 302
    before = rules.current_rulebook().version

    threshold = the_2026_salary_threshold()  # in force today, with no last day
    threshold.value = 45000
    threshold.save()
    salary = Question.objects.get(key="offered_salary")
    salary.label = "What is the yearly salary offered?"
    salary.save()

    page = client.get(reverse("question", args=[assessment.token, "offered_salary"]))
    assert "What is the yearly salary offered?" in page.content.decode()
    url = reverse("question", args=[assessment.token, "offered_salary"])
    assert client.post(url, {"answer": "46000"}).status_code == 302
    assert client.get(reverse("results", args=[assessment.token])).status_code == 200
    assessment.refresh_from_db()
    assert assessment.rules_version == rules.current_rulebook().version != before
    assert assessment.verdicts["de-blue-card"] == "fits"


def without_nonce(content: bytes) -> str:
    """The page without its CSP nonce and CSRF token, which are new in every response."""
    page = re.sub(r'nonce="[^"]*"', "", content.decode())
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


@pytest.mark.django_db
@pytest.mark.parametrize("view", ["resume", "question", "check", "results", "ask_for_pdf"])
def test_a_wrong_token_gets_the_same_404_as_a_deleted_assessment(client, view):
    deleted = Assessment.objects.create()
    token = deleted.token
    deleted.delete()
    guessed = Assessment().token

    def get(token: str):
        args = [token, "age"] if view == "question" else [token]
        if view == "ask_for_pdf":
            return client.post(reverse(view, args=args))
        return client.get(reverse(view, args=args))

    gone, wrong = get(token), get(guessed)
    assert gone.status_code == wrong.status_code == 404
    assert without_nonce(gone.content) == without_nonce(wrong.content)
    assert sorted(gone.headers) == sorted(wrong.headers)


@pytest.mark.django_db
def test_the_start_page_says_how_long_answers_are_kept(client, settings):
    settings.ASSESSMENT_RETENTION_DAYS = 14
    page = client.get(reverse("start")).content.decode()
    assert re.search(r"<li>We (keep|delete) your answers[^<]* 14 days", page)
