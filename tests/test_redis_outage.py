"""A Redis outage makes the site slower, never broken: with the Redis that holds the cache,
the cached rules, the rate-limit counters and the sessions' copies stopped (or hung), every
applicant page and the admin still work, nobody is logged out, and nothing saved is lost.
Each test starts a Redis of its own and stops it, so no other test's Redis is touched."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse

from eligibility import rules
from eligibility.logs import CacheOutageSummary
from eligibility.models import Answer, Assessment
from eligibility.settings import redis_cache
from tests.servers import free_port


@dataclass
class OwnRedis:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def hang(self) -> None:
        """Still accepting connections, never answering: a Redis stuck or a network gone."""
        os.kill(self.process.pid, signal.SIGSTOP)


@pytest.fixture
def own_redis(settings, imported_catalogue) -> Iterator[OwnRedis]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.fail("redis-server is not installed; .ci/run installs it (package redis-server).")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    redis = OwnRedis(process, f"redis://127.0.0.1:{port}/0")
    settings.CACHES = {"default": redis_cache(redis.url, "outage-test")}
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    deadline = time.monotonic() + 10
    while not cache.set("up", 1) and cache.get("up") != 1:
        if time.monotonic() > deadline:
            pytest.fail("The test's own Redis did not start.")
        time.sleep(0.05)
    rules.forget_cached_rulebook()
    yield redis
    os.kill(process.pid, signal.SIGCONT) if process.poll() is None else None
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def adviser(db) -> User:
    return User.objects.create_superuser("ada", "ada@example.org", "a long passphrase 1")


def started(client) -> Assessment:
    response = client.post(reverse("begin"))
    assert response.status_code == 302
    return Assessment.objects.latest("created_at")


def assert_the_site_works(client, assessment: Assessment) -> None:
    token = assessment.token
    assert client.get(reverse("question", args=[token, "age"])).status_code == 200
    answered = client.post(reverse("question", args=[token, "age"]), {"answer": "31"})
    assert answered.status_code == 302
    assert Answer.objects.get(assessment=assessment, question_key="age").value == 31
    assert client.get(reverse("back", args=[token, "age"])).status_code == 302
    assert client.get(reverse("check", args=[token])).status_code == 200
    assert client.get(reverse("results", args=[token])).status_code == 200
    asked = client.post(reverse("ask_for_pdf", args=[token]))
    assert asked.status_code == 302
    assert client.get(asked["Location"]).status_code == 200


def test_with_redis_stopped_applicants_pages_work_and_answers_are_saved(client, own_redis):
    assessment = started(client)
    own_redis.stop()

    assert_the_site_works(client, assessment)


def test_with_redis_stopped_an_assessment_can_be_started_and_the_skipped_limit_is_logged(
    client, own_redis, settings, caplog
):
    settings.NEW_ASSESSMENTS_LIMIT = 1
    started(client)
    own_redis.stop()

    with caplog.at_level(logging.WARNING):
        assessment = started(client)  # over the limit, which cannot be counted now

    assert "rate limit is not applied" in caplog.text
    assert client.get(reverse("check", args=[assessment.token])).status_code == 200


def test_with_redis_stopped_an_adviser_stays_logged_in_and_another_can_log_in(
    client, own_redis, adviser
):
    client.force_login(adviser)
    assert client.get(reverse("admin:index")).status_code == 200
    own_redis.stop()

    assert client.get(reverse("admin:index")).status_code == 200  # the session survived
    other = client.__class__()
    login = other.post(
        reverse("admin:login"), {"username": "ada", "password": "a long passphrase 1"}
    )
    assert login.status_code == 302
    assert other.get(reverse("admin:index")).status_code == 200
    assert other.get(reverse("admin:eligibility_route_changelist")).status_code == 200


def test_an_applicants_session_and_answers_outlive_the_outage(client, own_redis):
    assessment = started(client)
    client.post(reverse("question", args=[assessment.token, "age"]), {"answer": "29"})
    own_redis.stop()

    results = client.get(reverse("results", args=[assessment.token]))

    assert results.status_code == 200
    assert Answer.objects.get(assessment=assessment, question_key="age").value == 29


def test_with_redis_hung_pages_still_come_back_within_the_timeouts(client, own_redis, settings):
    assessment = started(client)
    own_redis.hang()

    assert_the_site_works(client, assessment)


def test_the_outage_is_logged_as_one_line_a_minute_not_a_traceback_per_cache_call(
    client, own_redis, caplog
):
    assessment = started(client)
    own_redis.stop()
    for summary in logging.getLogger("eligibility.cache").filters:
        assert isinstance(summary, CacheOutageSummary)
        summary.last_said = float("-inf")  # as in a process that has not said it yet

    with caplog.at_level(logging.WARNING, logger="eligibility.cache"):
        for _ in range(3):
            assert client.get(reverse("results", args=[assessment.token])).status_code == 200

    said = [r for r in caplog.records if r.name == "eligibility.cache"]
    assert len(said) == 1
    assert "Redis is unreachable" in said[0].getMessage()
    assert "Connection refused" in said[0].getMessage()
    assert said[0].exc_info is None
