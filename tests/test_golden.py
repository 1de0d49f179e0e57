"""Golden scenarios: applicant profiles in tests/golden/*.yaml, each with the verdicts
a careful adviser reading the fact sheet would give for some routes, run through the engine
against the real catalogue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.db import connection, transaction

from eligibility import engine, wording
from eligibility.catalogue import CATALOGUE_PATH, import_catalogue
from eligibility.management.commands.assess import read_answers
from eligibility.rules import load_rulebook

SCENARIOS = [
    scenario
    for path in sorted((Path(__file__).parent / "golden").glob("*.yaml"))
    for scenario in yaml.safe_load(path.read_text(encoding="utf-8")) or []
]


@pytest.fixture(scope="session")
def catalogue(django_db_setup: None, django_db_blocker: Any) -> engine.RuleBook:
    """The real catalogue as the engine sees it, loaded once and rolled back."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            import_catalogue(CATALOGUE_PATH.read_text(encoding="utf-8"))
            book = load_rulebook()
            transaction.set_rollback(True)
        # This fixture may run on a connection of its own (not the one tests hold); left
        # open, PostgreSQL refuses to drop the test database at the end of the run.
        connection.close()
    return book


CASES = [
    pytest.param(scenario, slug, expected, id=f"{scenario['name']} / {slug}")
    for scenario in SCENARIOS
    for slug, expected in scenario["expect"].items()
]


@pytest.mark.parametrize(("scenario", "slug", "expected"), CASES)
def test_golden_scenario(catalogue, scenario, slug, expected):
    import json

    answers = read_answers(json.dumps(scenario["answers"], default=str), catalogue, "scenario")
    on = (
        scenario["on"]
        if isinstance(scenario["on"], dt.date)
        else dt.date.fromisoformat(scenario["on"])
    )
    results = {r.slug: r for r in engine.evaluate_routes(catalogue, answers, on)}
    result = results[slug]
    assert result.verdict.value == expected["verdict"], (
        f"{expected.get('checks', '')}: got {result.verdict.value} because {wording.reason(result)}"
    )


def test_every_route_has_a_fitting_a_failing_and_a_boundary_scenario(catalogue):
    seen: dict[str, set[str]] = {r.slug: set() for r in catalogue.routes}
    for scenario in SCENARIOS:
        for slug, expected in scenario["expect"].items():
            verdict = expected["verdict"]
            seen[slug].add("positive" if verdict in ("fits", "may_fit") else "negative")
            if scenario.get("boundary") or "boundary" in expected.get("checks", "").lower():
                seen[slug].add("boundary")
    missing = {slug: {"positive", "negative", "boundary"} - kinds for slug, kinds in seen.items()}
    assert {slug: kinds for slug, kinds in missing.items() if kinds} == {}
