"""Checks of the whole catalogue as stored (published routes and drafts), for advisers and CI:
`manage.py check_catalogue`. Each problem is one line naming the route, the gate and the dates,
so that it can be found and fixed in the admin. Reads the database in a fixed number of queries,
however many routes there are, and changes nothing. Warnings (`catalogue_warnings`) are what
advisers should fill in but what does not make a route wrong: a route without next steps."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from typing import Any, Final

from django.core.exceptions import ValidationError

from eligibility import answers, engine
from eligibility.currencies import ISO_4217
from eligibility.models import (
    LONGEST_REVIEW_INTERVAL_DAYS,
    VALUELESS,
    KeyFact,
    NextStep,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
    https_url,
    is_home_page,
    page_url,
)

# How far ahead every gate of a published route must say what it is checked against.
HORIZON_YEARS: Final = 2
_FACT_TOPICS: Final = frozenset(topic.value for topic in engine.FactTopic)
# Errors reading a stored value can raise besides AnswerError (rows written by SQL).
_READ_ERRORS: Final = (ValueError, TypeError, ArithmeticError)


def catalogue_problems(today: dt.date) -> list[str]:
    """One line per problem in the stored catalogue, questions first, then routes by slug."""
    question_rows = list(Question.objects.order_by("order", "key"))
    problems: list[str] = []
    questions: dict[str, engine.QuestionRule] = {}
    for row in question_rows:
        rule, problem = _question_rule(row)
        if rule is not None:
            questions[row.key] = rule
        if problem:
            problems.append(f"question {row.key}: {problem}")
    keys = {q.key for q in question_rows}
    for row in question_rows:
        if row.month_question and row.month_question not in keys:
            problems.append(
                f"question {row.key}: its month question “{row.month_question}” does not exist."
            )
        problems += [
            f"question {row.key}: ask only if, {problem}"
            for problem in _condition_problems(row.ask_if, questions)
        ]
    for route in _routes():
        problems += _route_problems(route, questions, today)
    return problems


def catalogue_warnings() -> list[str]:
    """One line per route that lacks what applicants should see but that decides no verdict:
    next steps. One query, however many routes."""
    bare = Route.objects.filter(next_steps__isnull=True).order_by("slug")
    return [route_warning(route) for route in bare]


def route_warning(route: Route) -> str:
    return (
        f"{route.slug} ({route.status}): it has no next steps, so applicants are not told what "
        "to do next; add two to four in the admin."
    )


def route_problems(route: Route, today: dt.date) -> list[str]:
    """What catalogue_problems says about one route (loaded with_rules), e.g. a draft."""
    readable = ((row.key, _question_rule(row)[0]) for row in Question.objects.all())
    questions = {key: rule for key, rule in readable if rule is not None}
    return _route_problems(route, questions, today)


def _routes() -> Iterable[Route]:
    """Every route, drafts too, with its gates, values, key facts, open questions and next
    steps: six queries (rules.load_rulebook reads the published ones the same way)."""
    return Route.objects.order_by("slug").with_rules()


def _question_rule(row: Question) -> tuple[engine.QuestionRule | None, str]:
    """The question as the engine reads it (its own condition aside, checked clause by clause
    later), or None and why it cannot be read."""
    try:
        rule = row.as_rule(with_condition=False)
    except _READ_ERRORS as exc:
        return None, f"cannot be read ({exc}); the values of its gates are not checked."
    return rule, ""


def _condition_problems(raw: Any, questions: dict[str, engine.QuestionRule]) -> list[str]:
    """What is wrong with each clause of an "ask only if" or "show only if" condition."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        try:
            answers.parse_condition(raw, known_questions=questions)
        except _READ_ERRORS as exc:
            return [str(exc)]
        return []
    problems = []
    for number, clause in enumerate(raw, start=1):
        try:
            answers.parse_condition([clause], known_questions=questions)
        except _READ_ERRORS as exc:
            problems.append(f"clause {number}: {exc}")
    return problems


def _day(day: dt.date | None, blank: str) -> str:
    return day.isoformat() if day is not None else blank


def _span(value: RequirementValue) -> str:
    return (
        f"value from {_day(value.effective_from, 'the start')} "
        f"to {_day(value.effective_until, 'no end')}"
    )


def _horizon(today: dt.date) -> dt.date:
    if today.year + HORIZON_YEARS > dt.MAXYEAR:
        return dt.date.max
    try:
        return today.replace(year=today.year + HORIZON_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + HORIZON_YEARS, day=28)


def _route_problems(
    route: Route, questions: dict[str, engine.QuestionRule], today: dt.date
) -> list[str]:
    where = f"{route.slug} ({route.status})"
    gates = list(route.requirements.all())
    problems: list[str] = []
    if not route.official_url.strip() or is_home_page(route.official_url):
        problems.append(f"{where}: link its overview page (not empty, not a site's home page).")
    if route.currency not in ISO_4217:
        problems.append(f"{where}: its currency “{route.currency}” is not an ISO 4217 code.")
    if not 1 <= route.review_interval_days <= LONGEST_REVIEW_INTERVAL_DAYS:
        problems.append(
            f"{where}: it is reviewed every {route.review_interval_days} days; make it 1 to "
            f"{LONGEST_REVIEW_INTERVAL_DAYS}."
        )
    start = _first_day(route, gates)
    end = min(_horizon(today), route.closes_on or dt.date.max)
    check_coverage = route.status == Route.Status.PUBLISHED and start is not None and start <= end
    for gate in gates:
        key: str = gate.question_key  # type: ignore[attr-defined]
        place = (
            f"{where}, gate {gate.order} ({gate.pathway or 'every pathway'} / {key} / "
            f"{gate.operator})"
        )
        problems += [
            f"{place}: applies only if, {p}"
            for p in _condition_problems(gate.applies_if, questions)
        ]
        values = list(gate.values.all())
        if not values:
            problems.append(f"{place}: has no values, so it is unknown on every date.")
        problems += [f"{place}: {p}" for p in _value_problems(gate, values, questions.get(key))]
        problems += [f"{place}: {p}" for p in _overlaps(values)]
        if check_coverage and values:
            assert start is not None
            problems += [
                f"{place}: no value in force from {first.isoformat()} to {last.isoformat()} "
                "(if the rule is not known then, add an unclear value for those dates)."
                for first, last in engine.uncovered_dates(_dates_of(gate, values), start, end)
            ]
        problems += [
            f"{place}, {_span(v)}: {p}" for v in values for p in _source_problems(v, route)
        ]
    for fact in route.key_facts.all():
        if fact.topic not in _FACT_TOPICS:
            problems.append(
                f"{where}, key fact {fact.topic}: the topic does not exist, so applicants are "
                "not shown the fact."
            )
        problems += [f"{where}, key fact {fact.topic}: {p}" for p in _source_problems(fact, route)]
    for open_question in route.open_questions.all():
        place = f"{where}, open question “{open_question.topic}”"
        problems += [
            f"{place}: show only if, {p}"
            for p in _condition_problems(open_question.show_if, questions)
        ]
        problems += [f"{place}: {p}" for p in _source_problems(open_question, route)]
    for step in route.next_steps.all():
        place = f"{where}, next step {step.order}"
        problems += [f"{place}: {p}" for p in _step_page_problems(step)]
        problems += [f"{place}: {p}" for p in _source_problems(step, route)]
    return problems


def _step_page_problems(step: NextStep) -> list[str]:
    """What the admin says of the step's official page (models.https_url, models.page_url)."""
    for validate in (https_url, page_url):
        try:
            validate(step.url)
        except ValidationError as error:
            return [f"its official page {step.url.strip() or '(none)'}: {error.messages[0]}"]
    return []


def _first_day(route: Route, gates: list[Requirement]) -> dt.date | None:
    """The day from which every gate must have a value: the route's opening or, when our
    records do not say, the earliest first day any of its values names (failing that, the
    earliest last day, so that a value that ended with nothing after it is still found). None
    when no value of the route is dated: then every value runs from the start to no end."""
    if route.opens_on is not None:
        return route.opens_on
    values = [v for gate in gates for v in gate.values.all()]
    starts = [v.effective_from for v in values if v.effective_from is not None]
    if starts:
        return min(starts)
    ends = [v.effective_until for v in values if v.effective_until is not None]
    return min(ends) if ends else None


def _dates_of(gate: Requirement, values: list[RequirementValue]) -> engine.RequirementRule:
    """The gate's dates as the engine reads them: only the dates matter to uncovered_dates,
    so a gate whose question or operator cannot be read is still checked."""
    key: str = gate.question_key  # type: ignore[attr-defined]
    placeholder = engine.QuestionRule(key=key, label="", kind=engine.Kind.INTEGER)
    no_source = engine.Source("", "", dt.date.min)
    return engine.RequirementRule(
        id=gate.pk,
        question=placeholder,
        operator=engine.Operator.ANSWERED,
        values=tuple(
            engine.DatedValue(
                value=None,
                source=no_source,
                effective_from=v.effective_from,
                effective_until=v.effective_until,
            )
            for v in values
        ),
    )


def _value_problems(
    gate: Requirement, values: list[RequirementValue], question: engine.QuestionRule | None
) -> list[str]:
    try:
        operator: engine.Operator | None = engine.Operator(gate.operator)
    except ValueError:
        operator = None
    problems = []
    if operator is None:
        problems.append(f"the operator “{gate.operator}” does not exist.")
    for value in values:
        span = _span(value)
        if (
            value.effective_from is not None
            and value.effective_until is not None
            and value.effective_until < value.effective_from
        ):
            problems.append(f"{span}: its last day is before its first.")
        try:
            certainty = engine.Certainty(value.certainty)
        except ValueError:
            problems.append(f"{span}: the certainty “{value.certainty}” does not exist.")
            continue
        if certainty is not engine.Certainty.SETTLED and not value.note.strip():
            problems.append(
                f"{span}: a value marked {certainty.value} needs a note saying what is unclear "
                "or what decides."
            )
        if question is None or operator is None:
            continue
        if certainty in VALUELESS and value.value is None:
            continue
        try:
            parsed = answers.parse_rule_value(question, operator, value.value)
        except _READ_ERRORS as exc:
            problems.append(f"{span}: the stored value {value.value!r} does not read: {exc}")
            continue
        if operator is not engine.Operator.ANSWERED and parsed != value.value:
            problems.append(
                f"{span}: the value is stored as {value.value!r} but reads as {parsed!r}; "
                "save it again in the admin."
            )
    return problems


def _overlaps(values: list[RequirementValue]) -> list[str]:
    """Every two values in force on the same day (a value with no last day runs on)."""
    spans = sorted(
        (
            (v.effective_from or dt.date.min, v.effective_until or dt.date.max, v)
            for v in values
            if v.effective_from is None
            or v.effective_until is None
            or v.effective_from <= v.effective_until
        ),
        key=lambda span: (span[0], span[1], span[2].pk or 0),
    )
    problems = []
    for (_, end, earlier), (start, later_end, later) in itertools.combinations(spans, 2):
        if start <= end:
            first = None if start == dt.date.min else start
            last_day = min(end, later_end)
            last = None if last_day == dt.date.max else last_day
            problems.append(
                f"the {_span(earlier)} and the {_span(later)} are both in force from "
                f"{_day(first, 'the start')} to {_day(last, 'no end')}."
            )
    return problems


def _source_problems(
    row: RequirementValue | KeyFact | OpenQuestion | NextStep, route: Route
) -> list[str]:
    problems = []
    url = row.source_url.strip()
    if not url:
        problems.append("the source has no URL.")
    elif isinstance(row, NextStep) and not url.lower().startswith("https://"):
        problems.append(f"the source URL {url} is not an https:// address.")
    elif is_home_page(url):
        problems.append(f"the source URL {url} is a site's home page; link the page that says it.")
    if "fact sheet" in row.source_title.lower():
        problems.append(
            "the source is our own fact sheet; cite the page the fact comes from, or mark it "
            "unclear."
        )
    if row.source_as_of > route.last_verified_on:
        problems.append(
            f"the source is as of {row.source_as_of.isoformat()}, after the route was last "
            f"verified ({route.last_verified_on.isoformat()})."
        )
    return problems
