"""python manage.py check_scenarios [--route SLUG]

Runs every scenario against the published rules in the database: one line per failing check
("<scenario> / <route>: <why>"), then a summary. Exit status: 0 when every check passes, 1 when
one fails, 2 for bad usage."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eligibility.advisers.scenarios import run_scenarios
from eligibility.rules import load_rulebook


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = (
        "Run every scenario against the published rules; print each failing check and exit "
        "with status 1 if any fails."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--route", metavar="SLUG", help="only the checks of this route")

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["route"]
        runs = run_scenarios(load_rulebook(), slug=slug)
        if slug and not runs:
            raise CommandError(f"No scenario expects a verdict of “{slug}”.", returncode=2)
        failures = [run for run in runs if not run.passed]
        for run in failures:
            self.stdout.write(f"{run.scenario_name} / {run.slug}: {run.problem}")
        if failures:
            raise CommandError(
                f"{len(failures)} of {_count(len(runs), 'check')} fail"
                f"{'s' if len(failures) == 1 else ''}.",
                returncode=1,
            )
        scenarios = len({run.scenario_id for run in runs})
        self.stdout.write(
            f"{_count(len(runs), 'check')} of {_count(scenarios, 'scenario')}: all pass"
        )
