"""Option parsing shared by the management commands: a value that cannot be used is a usage
error (exit status 2) in one line that says what to give instead, never a traceback."""

from __future__ import annotations

import datetime as dt
from typing import Final

from django.core.management.base import CommandError

from eligibility.answers import shortened

# The most days an option counts: a hundred years, far more than any retention or review
# period, and far less than the calendar holds.
MOST_DAYS: Final = 36_500


def evaluation_date(text: str) -> dt.date:
    """An --on date, or a usage error (exit status 2) that says how to write one."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--on: “{shortened(text, 20)}” is not a date; write YYYY-MM-DD.", returncode=2
        ) from None


def day_count(text: str, option: str) -> int:
    """A number of days from 0 to MOST_DAYS, or a usage error (exit status 2)."""
    try:
        days = int(text)
    except ValueError:  # not a whole number, or more digits than Python reads
        days = -1
    if not 0 <= days <= MOST_DAYS:
        raise CommandError(
            f"{option} must be 0 or more days, up to {MOST_DAYS:,} (a hundred years): "
            f"“{shortened(text, 20)}” is not.",
            returncode=2,
        )
    return days
