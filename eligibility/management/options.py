"""Option parsing shared by the management commands."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError


def evaluation_date(text: str) -> dt.date:
    """An --on date, or a usage error (exit status 2) that says how to write one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--on: “{text}” is not a date; write YYYY-MM-DD.", returncode=2
        ) from None
