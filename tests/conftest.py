from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.test import override_settings

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM use there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test gets an empty cache of its own (rate-limit counters, cached rules), never a
    shared Redis that a flush would wipe for others."""
    from eligibility import rules

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": uuid.uuid4().hex,
        }
    }
    rules.forget_cached_rulebook()
    yield
    rules.forget_cached_rulebook()


class OneIterationPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Production's hasher, made fast: its hashes name their iterations, so app servers run
    with production settings (test_concurrency) still check passwords set by a test, which
    they could not with Django's usual test hasher, MD5."""

    iterations = 1


@pytest.fixture(autouse=True, scope="session")
def fast_password_hasher() -> Iterator[None]:
    """Production's hashing is slow on purpose; tests create and log in advisers often."""
    with override_settings(PASSWORD_HASHERS=[f"{__name__}.OneIterationPBKDF2PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def shipped_catalogue(django_db_setup: None, django_db_blocker: Any):
    """The shipped catalogue loaded by `import_routes` once per run and rolled back at once,
    so that tests expecting an empty database still see one."""
    from tests.shipped_catalogue import import_and_roll_back

    with django_db_blocker.unblock():
        catalogue = import_and_roll_back()
        # This fixture may run on a connection of its own (not the one tests hold); left
        # open, PostgreSQL refuses to drop the test database at the end of the run.
        connection.close()
    return catalogue


@pytest.fixture
def imported_catalogue(db: None, shipped_catalogue):
    """This test's database as `import_routes` leaves it after loading the shipped catalogue
    (its rows put back, far faster than importing the file again). Not for tests that flush
    the database (transaction=True, live_server): the rows refer to migration rows, such as
    the core questions, that a flush removes."""
    shipped_catalogue.insert()
    return shipped_catalogue


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, the test database can only be dropped once nobody is connected. A
    server or worker process that a test stopped may still be closing its connection at
    that moment (seen once in CI with pytest-xdist); end such sessions, and name them."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid), application_name, state, left(query, 80) "
                "FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
            for _, application, state, query in cursor.fetchall():
                print(f"\nEnded a session left on the test database: {application} {state} {query}")
        connection.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that flush the database (browser tests with live_server, transactional ones) run
    after every other database test, which may need the rows migrations make. pytest-django
    orders them so, but pytest's own grouping of parametrized fixtures runs later and undid it
    once (a test parametrized on an argument called `page`, like Playwright's fixture)."""

    def flushes(item: pytest.Item) -> bool:
        marker = item.get_closest_marker("django_db")
        fixtures = getattr(item, "fixturenames", ())
        return bool(
            (marker and marker.kwargs.get("transaction"))
            or "live_server" in fixtures
            or "transactional_db" in fixtures
        )

    items.sort(key=flushes)
