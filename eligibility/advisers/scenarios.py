"""Scenarios are the rules' tests kept as data: an applicant's answers on a date, and the
verdict advisers expect for some routes. `run_scenarios` checks them against a rule book (the
published rules, or the rules as a draft would make them) and says why each failure fails."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, prefetch_related_objects

from eligibility import answers, engine, wording
from eligibility.models import Scenario, ScenarioExpectation


def parse_answers(raw: Mapping[str, Any], book: engine.RuleBook) -> dict[str, Any]:
    """Answers as the engine reads them: a missing key is unanswered, null is "I don't know".
    Raises ValueError with one line naming the key that cannot be read."""
    if not isinstance(raw, Mapping):
        raise ValueError('The answers must be question keys and answers, like {"age": 29}.')
    questions = book.questions_by_key
    parsed = {}
    for key, value in raw.items():
        if key not in questions:
            known = ", ".join(sorted(questions))
            shown = json.dumps(key, ensure_ascii=False)[1:-1]  # one line, whatever the key
            raise ValueError(f"Unknown question key “{shown}”. Known keys: {known}.")
        try:
            parsed[key] = answers.parse_answer(questions[key], value)
        except answers.AnswerError as exc:
            raise answers.AnswerError(f"{key}: {exc}") from None
    return parsed


VERDICT_LABELS = {v.value: v.label.lower() for v in engine.Verdict}


@dataclass(frozen=True)
class ScenarioRun:
    """One expectation of one scenario, checked. `expected` and `got` are verdict values;
    `got` is None when the route is not in the rule book or the answers cannot be read.
    `problem` says in one line why it failed ("" when it passed)."""

    scenario_id: int
    scenario_name: str
    slug: str
    expected: str
    got: str | None
    reason: str
    passed: bool
    problem: str


def _label(verdict: str) -> str:
    return VERDICT_LABELS.get(verdict, verdict)


def _check(
    scenario: Scenario,
    expectation: ScenarioExpectation,
    route: engine.RouteRules | None,
    given: dict[str, Any] | ValueError,
) -> ScenarioRun:
    run = ScenarioRun(
        scenario_id=scenario.pk,
        scenario_name=scenario.name,
        slug=expectation.route.published_slug,
        expected=expectation.verdict,
        got=None,
        reason="",
        passed=True,
        problem="",
    )
    if isinstance(given, ValueError):
        return _failed(run, f"the answers cannot be read: {given}")
    if route is None:
        return _failed(run, f"no published route “{run.slug}” in the rules checked")
    result = engine.evaluate_route(route, given, scenario.on)
    run = dataclasses.replace(run, got=result.verdict.value, reason=wording.reason(result))
    if run.got != run.expected:
        return _failed(
            run, f"expected {_label(run.expected)}, got {_label(result.verdict)}: {run.reason}"
        )
    wanted = expectation.reason_contains.strip()
    if wanted and wanted.casefold() not in run.reason.casefold():
        return _failed(run, f"the reason does not contain “{wanted}”: {run.reason}")
    return run


def _failed(run: ScenarioRun, problem: str) -> ScenarioRun:
    # One line, whatever the data holds: the command prints one line per failure.
    return dataclasses.replace(run, passed=False, problem=" ".join(problem.split()))


def run_scenarios(
    book: engine.RuleBook, scenarios: Iterable[Scenario] | None = None, *, slug: str | None = None
) -> list[ScenarioRun]:
    """Check every expectation of `scenarios` (default: all of them), or only those for the
    route `slug`, against `book`. Two queries, however many scenarios; never raises for
    scenario data, however wrong: a failure says what is wrong instead."""
    chosen = list(Scenario.objects.all() if scenarios is None else scenarios)
    prefetch_related_objects(
        chosen,
        Prefetch(
            "expectations",
            queryset=ScenarioExpectation.objects.select_related("route__draft_of").order_by(
                "route__slug", "pk"
            ),
        ),
    )
    routes = {route.slug: route for route in book.routes}
    runs = []
    for scenario in chosen:
        expectations = [
            e for e in scenario.expectations.all() if slug is None or e.route.published_slug == slug
        ]
        if not expectations:
            continue
        given: dict[str, Any] | ValueError
        try:
            given = parse_answers(scenario.answers, book)
        except ValueError as exc:
            given = exc
        for expectation in expectations:
            route = routes.get(expectation.route.published_slug)
            runs.append(_check(scenario, expectation, route, given))
    return runs
