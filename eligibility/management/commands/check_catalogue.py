"""python manage.py check_catalogue [--on YYYY-MM-DD]

Lists what is wrong in the stored catalogue (published routes and drafts), one problem a line,
then a summary. Exit status: 0 when nothing is wrong, 1 when something is, 2 for bad usage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from eligibility.checks import HORIZON_YEARS, catalogue_problems, catalogue_warnings
from eligibility.management.options import evaluation_date


class Command(BaseCommand):
    help = (
        "Check every route, drafts too: gates of published routes without a value on some "
        f"date up to {HORIZON_YEARS} years ahead, values and conditions that do not read, "
        "overlapping values, and sources without a page or newer than the route's last "
        "verification. Exits with status 1 if anything is wrong."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--on", type=str, help="the day to check from, YYYY-MM-DD (default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = evaluation_date(options["on"]) if options["on"] else timezone.localdate()
        problems = catalogue_problems(today)
        for problem in problems:
            self.stdout.write(" ".join(problem.split()))  # one line, whatever the data holds
        for warning in catalogue_warnings():  # said, but no reason to fail
            self.stdout.write("Warning: " + " ".join(warning.split()))
        if not problems:
            self.stdout.write(f"The catalogue has no problems (checked on {today.isoformat()}).")
            return
        self.stdout.write(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the catalogue "
            f"(checked on {today.isoformat()})."
        )
        raise SystemExit(1)
