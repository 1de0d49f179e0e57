from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django must allow ORM use there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def fresh_cache(settings):
    """Each test gets an empty cache of its own (rate-limit counters, cached rules), never a
    shared Redis that a flush would wipe for others."""
    import uuid

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
