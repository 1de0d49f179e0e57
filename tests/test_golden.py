"""Golden scenarios: applicant profiles in the catalogue's `scenarios:`, each with the verdicts
a careful adviser reading the fact sheet would give for some routes, loaded into the database
with the catalogue and run against the rules stored beside them, as `check_scenarios` runs
them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, transaction

from eligibility.advisers.scenarios import ScenarioRun, run_scenarios
from eligibility.catalogue import CATALOGUE_PATH, parse
from eligibility.models import ScenarioExpectation
from tests.shipped_catalogue import ShippedCatalogue

# Read from the file only to give each check a test of its own.
EXPECTED = [
    (scenario["name"], slug)
    for scenario in parse(CATALOGUE_PATH.read_text(encoding="utf-8"))["scenarios"]
    for slug in scenario["expect"]
]


@dataclass(frozen=True)
class Checked:
    runs: dict[tuple[str, str], ScenarioRun]
    slugs: list[str]
    expectations: list[tuple[str, str, str]]  # route slug, verdict expected, what it checks


@pytest.fixture(scope="session")
def checked(shipped_catalogue: ShippedCatalogue, django_db_blocker: Any) -> Checked:
    """The real catalogue loaded once, its scenarios run against its rules, and rolled back."""
    book = shipped_catalogue.rulebook
    with django_db_blocker.unblock():
        with transaction.atomic():
            shipped_catalogue.insert()
            runs = {(run.scenario_name, run.slug): run for run in run_scenarios(book)}
            expectations = list(
                ScenarioExpectation.objects.values_list("route__slug", "verdict", "checks")
            )
            transaction.set_rollback(True)
        # This fixture may run on a connection of its own (not the one tests hold); left
        # open, PostgreSQL refuses to drop the test database at the end of the run.
        connection.close()
    return Checked(runs, [route.slug for route in book.routes], expectations)


@pytest.mark.parametrize(
    ("scenario", "slug"), [pytest.param(*e, id=f"{e[0]} / {e[1]}") for e in EXPECTED]
)
def test_golden_scenario(checked, scenario, slug):
    run = checked.runs[scenario, slug]
    assert run.passed, run.problem


def test_the_database_runs_every_check_of_the_file(checked):
    assert sorted(checked.runs) == sorted(EXPECTED)


def test_every_route_has_a_fitting_a_failing_and_a_boundary_scenario(checked):
    seen: dict[str, set[str]] = {slug: set() for slug in checked.slugs}
    for slug, verdict, checks in checked.expectations:
        seen[slug].add("positive" if verdict in ("fits", "may_fit") else "negative")
        if "boundary" in checks.lower():
            seen[slug].add("boundary")
    missing = {slug: {"positive", "negative", "boundary"} - kinds for slug, kinds in seen.items()}
    assert {slug: kinds for slug, kinds in missing.items() if kinds} == {}
