"""Browser tests drive Debian's Chromium. Without it they skip with the reason, except in CI
(CI=true), where a missing browser fails them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.core_questions import restore_core_questions

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        print(f"\nSkipping: {reason}")
        pytest.skip(reason)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """Replaces pytest-playwright's fallback fixture, a session-scoped fixture on a plugin
    instance that pytest 9 warns about (warnings are errors here). Tests use live_server.url."""
    return None


@pytest.fixture
def core_questions(live_server: Any) -> None:
    """live_server flushes the database after each test, migration data included."""
    restore_core_questions()


@pytest.fixture(scope="session", autouse=True)
def live_server_outlives_the_browser(live_server: Any) -> None:
    """Session fixtures end in the reverse of their start: the live server, started first, is
    stopped after the browser has closed its keep-alive connections. Stopped first, its request
    threads closed their database connection after the server had let go of it, and pytest
    reported that from whichever test ended the session (seen once in CI)."""
