"""The route catalogue as a readable YAML file with natural keys (question keys, route slugs,
scenario names), so advisers can move rules, and the scenarios that test them, between
installations. `export_catalogue` and `import_catalogue` round-trip it exactly."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, QuerySet

from eligibility.models import (
    KeyFact,
    NextStep,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
    RouteRevision,
    Scenario,
    ScenarioExpectation,
)

CATALOGUE_PATH = Path(__file__).with_name("routes.yaml")

QUESTION_FIELDS = (
    "key",
    "label",
    "short_label",
    "help_text",
    "kind",
    "choices",
    "min_value",
    "max_value",
    "section",
    "unit",
    "month_question",
    "order",
    "ask_if",
)
ROUTE_FIELDS = (
    "slug",
    "country",
    "name",
    "official_name",
    "summary",
    "official_url",
    "status",
    "currency",
    "points_needed",
    "points_table_partial",
    "points_table_partial_from",
    "last_verified_on",
    "last_verified_by",
    "review_interval_days",
    "opens_on",
    "closes_on",
)
REQUIREMENT_FIELDS = (
    "pathway",
    "question",
    "operator",
    "points",
    "points_group",
    "explanation",
    "applies_if",
)
VALUE_FIELDS = ("value", "certainty", "effective_from", "effective_until", "note")
KEY_FACT_FIELDS = ("topic", "text", "unclear")
OPEN_QUESTION_FIELDS = ("topic", "text", "show_if")
NEXT_STEP_FIELDS = ("text", "url")
SCENARIO_FIELDS = ("name", "on", "answers")
EXPECTATION_FIELDS = ("verdict", "checks", "reason_contains")


class CatalogueError(ValueError):
    """A catalogue that cannot be loaded; the message names the place and the problem."""


@dataclass
class ImportReport:
    questions_created: list[str] = field(default_factory=list)
    questions_skipped: list[str] = field(default_factory=list)
    questions_edited: list[str] = field(default_factory=list)
    routes_created: list[str] = field(default_factory=list)
    routes_skipped: list[str] = field(default_factory=list)
    routes_edited: list[str] = field(default_factory=list)
    routes_replaced: list[str] = field(default_factory=list)
    scenarios_created: list[str] = field(default_factory=list)
    scenarios_skipped: list[str] = field(default_factory=list)
    scenarios_edited: list[str] = field(default_factory=list)
    scenarios_replaced: list[str] = field(default_factory=list)


def _number(value: Decimal | float | None) -> int | float | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _conditions(clauses: Any) -> Any:
    """Clauses in a fixed key order: PostgreSQL's jsonb does not keep the order they had. A
    condition that is not a list of clauses (SQL, an old row) is exported as stored, for
    import_routes and check_catalogue to name."""
    if not isinstance(clauses, list) or not all(isinstance(c, dict) for c in clauses):
        return clauses
    order = ("question", "operator", "value")
    return [{k: c[k] for k in (*order, *sorted(set(c) - set(order))) if k in c} for c in clauses]


def _source(row: RequirementValue | KeyFact | OpenQuestion | NextStep) -> dict[str, Any]:
    source = {"title": row.source_title, "url": row.source_url, "as_of": row.source_as_of}
    if row.source_as_of_approximate:
        source["as_of_approximate"] = True
    return source


def export_question(q: Question) -> dict[str, Any]:
    row = {name: getattr(q, name) for name in QUESTION_FIELDS}
    row["min_value"], row["max_value"] = _number(q.min_value), _number(q.max_value)
    row["ask_if"] = _conditions(q.ask_if)
    return row


# Key facts in the order of their topics; one on a topic that does not exist, last.
_TOPIC_ORDER = {topic.value: i for i, topic in enumerate(KeyFact.Topic)}


def export_route(route: Route) -> dict[str, Any]:
    """One route with its key facts, requirements, open questions and next steps (best
    prefetched)."""
    row = {name: getattr(route, name) for name in ROUTE_FIELDS}
    row["country"] = route.country.code
    row["key_facts"] = [
        {**{n: getattr(f, n) for n in KEY_FACT_FIELDS}, "source": _source(f)}
        for f in sorted(
            route.key_facts.all(),
            key=lambda f: _TOPIC_ORDER.get(f.topic, len(_TOPIC_ORDER)),
        )
    ]
    row["requirements"] = [
        {
            **{n: getattr(r, n) for n in REQUIREMENT_FIELDS if n != "question"},
            "question": r.question.key,
            "applies_if": _conditions(r.applies_if),
            "values": [
                {**{n: getattr(v, n) for n in VALUE_FIELDS}, "source": _source(v)}
                for v in sorted(
                    r.values.all(), key=lambda v: (v.effective_from or dt.date.min, v.pk)
                )
            ],
        }
        for r in sorted(route.requirements.all(), key=lambda r: (r.order, r.pk))
    ]
    row["requirements"] = [
        {n: r[n] for n in (*REQUIREMENT_FIELDS, "values")} for r in row["requirements"]
    ]
    row["open_questions"] = [
        {
            **{n: getattr(o, n) for n in OPEN_QUESTION_FIELDS},
            "show_if": _conditions(o.show_if),
            "source": _source(o),
        }
        for o in sorted(route.open_questions.all(), key=lambda o: (o.order, o.pk))
    ]
    row["next_steps"] = [
        {**{n: getattr(s, n) for n in NEXT_STEP_FIELDS}, "source": _source(s)}
        for s in sorted(route.next_steps.all(), key=lambda s: (s.order, s.pk))
    ]
    return row


class Answers(dict[str, Any]):
    """A scenario's answers, written on a few lines ({age: 29, ...}) so it reads as a profile."""


def _expectation(verdict: str, checks: str, reason_contains: str) -> dict[str, str]:
    row = {"verdict": verdict, "checks": checks}
    if reason_contains:
        row["reason_contains"] = reason_contains
    return row


def export_scenario(scenario: Scenario, question_keys: list[str]) -> dict[str, Any]:
    """One scenario with what it expects of the routes the catalogue holds (draft copies
    are not among them). Expectations are best prefetched with their routes. Answers come in
    question order, whatever order the database keeps (PostgreSQL's jsonb keeps none)."""
    given = scenario.answers
    if isinstance(given, dict):
        keys = [k for k in question_keys if k in given] + sorted(set(given) - set(question_keys))
        given = Answers((k, given[k]) for k in keys)
    expectations = sorted(
        (e for e in scenario.expectations.all() if e.route.draft_of_id is None),
        key=lambda e: e.route.slug,
    )
    return {
        "name": scenario.name,
        "on": scenario.on,
        "answers": given,
        "expect": {
            e.route.slug: _expectation(e.verdict, e.checks, e.reason_contains) for e in expectations
        },
    }


def _exported(routes: QuerySet[Route]) -> QuerySet[Route]:
    """Routes with what export_route reads, in five more queries however many."""
    return routes.prefetch_related(
        "key_facts",
        "open_questions",
        "next_steps",
        "requirements__question",
        "requirements__values",
    )


def snapshot(route: Route) -> dict[str, Any]:
    """The route's catalogue entry as JSON (dates as text), as a revision keeps it."""
    entry = export_route(_exported(Route.objects.filter(pk=route.pk)).get())
    loaded: dict[str, Any] = json.loads(json.dumps(entry, cls=DjangoJSONEncoder))
    return loaded


def record_revision(route: Route, **fields: Any) -> RouteRevision:
    """The route as it stands, kept as its next revision (a publication or an import)."""
    number = (route.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
    return RouteRevision.objects.create(
        route=route, number=number, snapshot=snapshot(route), **fields
    )


def export_data() -> dict[str, Any]:
    """Every question and route (drafts too, but not draft copies of published routes), in
    display order, then every scenario in the order it was added."""
    routes = _exported(Route.objects.filter(draft_of__isnull=True).order_by("slug"))
    questions = list(Question.objects.order_by("order", "key"))
    keys = [q.key for q in questions]
    scenarios = Scenario.objects.order_by("pk").prefetch_related("expectations__route")
    return {
        "questions": [export_question(q) for q in questions],
        "routes": [export_route(route) for route in routes],
        "scenarios": [export_scenario(scenario, keys) for scenario in scenarios],
    }


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    Answers,
    lambda dumper, data: dumper.represent_mapping(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, data, flow_style=True
    ),
)


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


HEADER = """\
# Route Finder catalogue: questions and routes with their sources, then scenarios.
# Scenarios: applicant profiles with the verdict a careful adviser reading the fact sheet
# (../shared/facts/routes.md, compiled 2026-11-28) would give for some routes; advisers edit
# them in the admin, and `manage.py check_scenarios` runs them against the stored rules.
# `on` is the evaluation date (quoted: YAML 1.1 reads a bare `on` as a boolean).
# In answers, null means "I don't know" and a missing key means unanswered.
# A check mentioning "boundary" sits exactly on a threshold, an age limit or a points total, or
# on either side of a date: a dated value's start or end, a route's opening, or a period's cutoff
# ("graduated within the last 3 years": on or after the evaluation date minus 3 years).
# Every scenario answers citizenship (a list of ISO codes, or one code) unless it is about an
# unanswered citizenship; graduation_month is a string "1".."12" (or a JSON integer).
"""


def export_catalogue() -> str:
    return HEADER + dump(export_data())


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise CatalogueError(f"{where}: “{value}” is not a date (YYYY-MM-DD).") from None


def _source_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    source = raw.get("source") or {}
    if not isinstance(source, dict) or not source.get("title") or not source.get("as_of"):
        raise CatalogueError(
            f"{where}: every rule, key fact, open question and next step needs a source "
            "with a title and an as_of date."
        )
    return {
        "source_title": source["title"],
        "source_url": source.get("url") or "",
        "source_as_of": _date(source["as_of"], where),
        "source_as_of_approximate": bool(source.get("as_of_approximate", False)),
    }


def _check(obj: Any, where: str, exclude: list[str] | None = None) -> None:
    try:
        obj.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise CatalogueError(f"{where}: {problems}") from None
    except (TypeError, ValueError, ArithmeticError) as exc:  # a field of the wrong type
        detail = "a number does not read" if isinstance(exc, ArithmeticError) else str(exc)
        raise CatalogueError(f"{where}: a field cannot be read: {detail}.") from None


def _save(row: KeyFact | RequirementValue | OpenQuestion | NextStep, where: str) -> None:
    _check(row, where)
    row.save()


def _pick(raw: dict[str, Any], names: tuple[str, ...], where: str) -> dict[str, Any]:
    nested = {"source", "key_facts", "requirements", "open_questions", "next_steps", "values"}
    given: set[object] = set(raw)  # YAML keys need not be text
    unknown = given - set(names) - nested
    if unknown:
        # YAML 1.1 reads a bare `on` (a scenario's date) as true.
        hint = " (write “on” in quotes: YAML reads a bare on as true)" if True in unknown else ""
        named = ", ".join(sorted(str(name) for name in unknown))
        raise CatalogueError(f"{where}: unknown field(s) {named}{hint}.")
    return {n: raw[n] for n in names if n in raw}


# libyaml reads the catalogue several times faster than PyYAML's own reader, same results.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The catalogue nests a source in a value in a gate in a route in the list of routes: a file
# nested far deeper is not a catalogue, and reading it would exhaust the stack.
MOST_NESTED = 20


def _check_structure(text: str) -> None:
    """Refuses a file nested more than MOST_NESTED deep, or with YAML aliases (`*name`, which
    can make a small file mean billions of values), reading it as a flat stream of events."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.AliasEvent):
            raise CatalogueError(
                "The catalogue uses a YAML alias (*name); write each value out in full."
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MOST_NESTED:
                line = f" (line {event.start_mark.line + 1})" if event.start_mark else ""
                raise CatalogueError(
                    f"The catalogue is nested more than {MOST_NESTED} levels deep{line}; a "
                    "catalogue is nested a few levels."
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse(text: str) -> dict[str, Any]:
    try:
        _check_structure(text)
        data = yaml.load(text, Loader=_Loader) or {}
    except CatalogueError:
        raise
    except yaml.YAMLError as exc:
        raise CatalogueError(f"The catalogue is not valid YAML: {exc}") from None
    except ValueError:  # Python reads no integer of more digits than this
        raise CatalogueError(
            f"The catalogue holds a number of more than {sys.get_int_max_str_digits()} digits."
        ) from None
    if not isinstance(data, dict):
        raise CatalogueError(
            "The catalogue must have `questions:`, `routes:` and `scenarios:` lists."
        )
    return data


def _rows(raw: Any, plural: str, each: str, where: str = "") -> list[dict[str, Any]]:
    """A list of mappings (questions, routes, a route's gates...), or why it is not one."""
    at = f"{where}: " if where else ""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise CatalogueError(f"{at}`{plural}:` must be a list.")
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise CatalogueError(f"{at}{each} {i} must be a mapping of fields (`name: value`).")
    return raw


@transaction.atomic
def import_catalogue(text: str, *, replace: bool = False) -> ImportReport:
    """Load questions, routes and scenarios. Existing ones are left as advisers edited them
    (skipped), unless `replace` is set, which replaces routes of the same slug and scenarios
    of the same name. Either everything loads or nothing does."""
    data = parse(text)
    report = ImportReport()
    places: dict[str, str] = {}
    for i, raw in enumerate(_rows(data.get("questions"), "questions", "question"), start=1):
        where = f"question {i} ({raw.get('key', '?')})"
        fields = _pick(raw, QUESTION_FIELDS, where)
        existing_question = Question.objects.filter(key=fields.get("key")).first()
        if existing_question is not None:
            report.questions_skipped.append(existing_question.key)
            if export_question(existing_question) != export_question(Question(**fields)):
                report.questions_edited.append(existing_question.key)
            continue
        question = Question(**fields)
        # Conditions and month questions may name questions further down the file, so they
        # are checked once all are saved. (Question.clean() checks them whatever full_clean
        # excludes, so they are left out of this first check by blanking them.)
        later = [] if question.ask_if is None else question.ask_if, question.month_question
        question.ask_if, question.month_question = [], ""
        _check(question, where)
        question.ask_if, question.month_question = later
        question.save()
        report.questions_created.append(question.key)
        places[question.key] = where
    for key in report.questions_created:
        question = Question.objects.get(key=key)
        _check(question, places[key])
    questions = {q.key: q for q in Question.objects.all()}
    for i, raw in enumerate(_rows(data.get("routes"), "routes", "route"), start=1):
        where = f"route {i} ({raw.get('slug', '?')})"
        fields = _pick(raw, ROUTE_FIELDS, where)
        existing = Route.objects.filter(slug=fields.get("slug")).first()
        if existing is not None and not replace:
            report.routes_skipped.append(existing.slug)
            if export_route(existing) != raw:
                report.routes_edited.append(existing.slug)
            continue
        if existing is None:
            report.routes_created.append(new_route(raw, questions, where).slug)
            continue
        # Replaced in place, so that its history, scenarios' expectations and pk stay.
        if existing.drafts.exists():
            raise CatalogueError(
                f"{where}: the route has an open draft in the admin; publish or discard "
                "it before replacing the route."
            )
        overwrite_route(existing, raw, questions, where)
        report.routes_replaced.append(existing.slug)
        if existing.revisions.exists():
            record_revision(existing, change_note="Replaced by import_routes.")
    _load_scenarios(_rows(data.get("scenarios"), "scenarios", "scenario"), replace, report)
    return report


DATE_FIELDS = ("last_verified_on", "opens_on", "closes_on", "points_table_partial_from")


def _route_fields(raw: dict[str, Any], where: str) -> dict[str, Any]:
    fields = _pick(raw, ROUTE_FIELDS, where)
    for name in DATE_FIELDS:
        fields[name] = _date(fields.get(name), where)
    return fields


def new_route(
    raw: dict[str, Any], questions: dict[str, Question], where: str, **overrides: Any
) -> Route:
    """A route and its rows from a catalogue entry, with `overrides` (a draft's slug...)."""
    route = Route(**{**_route_fields(raw, where), **overrides})
    _check(route, where)
    route.save()
    _load_children(route, raw, questions, where)
    return route


def overwrite_route(
    route: Route,
    raw: dict[str, Any],
    questions: dict[str, Question],
    where: str,
    *,
    keep: tuple[str, ...] = (),
) -> None:
    """Give a stored route the fields (but `keep`) and rows of a catalogue entry, in place."""
    entry = Route(**_route_fields(raw, where))
    for name in ROUTE_FIELDS:
        if name not in keep:
            setattr(route, name, getattr(entry, name))
    route.requirements.all().delete()
    route.key_facts.all().delete()
    route.open_questions.all().delete()
    route.next_steps.all().delete()
    _check(route, where)
    route.save()
    _load_children(route, raw, questions, where)


def _load_scenarios(raws: list[dict[str, Any]], replace: bool, report: ImportReport) -> None:
    routes = {r.slug: r for r in Route.objects.filter(draft_of__isnull=True)}
    stored = {s.name: s for s in Scenario.objects.prefetch_related("expectations__route")}
    seen: set[str] = set()
    expectations: list[ScenarioExpectation] = []
    for i, raw in enumerate(raws, start=1):
        where = f"scenario {i} ({raw.get('name', '?')})"
        fields = _pick(raw, (*SCENARIO_FIELDS, "expect"), where)
        expect = fields.pop("expect", None) or {}
        if not isinstance(fields.get("answers", {}), dict):
            raise CatalogueError(f"{where}: answers must be question keys and answers.")
        if not isinstance(expect, dict):
            raise CatalogueError(f"{where}: expect must be route slugs and verdicts.")
        name = fields["name"] = str(fields.get("name") or "")
        if name in seen:
            raise CatalogueError(f"{where}: another scenario of the file has this name.")
        seen.add(name)
        fields["on"] = _date(fields.get("on"), where)
        scenario = stored.get(name)
        if scenario is not None and not replace:
            report.scenarios_skipped.append(scenario.name)
            if _differs(scenario, fields, expect):
                report.scenarios_edited.append(scenario.name)
            continue
        if scenario is None:
            scenario = Scenario(**fields)
            report.scenarios_created.append(scenario.name)
        else:
            scenario.on, scenario.answers = fields["on"], fields.get("answers", {})
            scenario.expectations.all().delete()
            report.scenarios_replaced.append(scenario.name)
        _check(scenario, where)
        scenario.save()
        expectations += _expectations(scenario, expect, routes, where)
    ScenarioExpectation.objects.bulk_create(expectations)


def _expectations(
    scenario: Scenario, expect: dict[Any, Any], routes: dict[str, Route], where: str
) -> list[ScenarioExpectation]:
    rows = []
    verdicts = [v.value for v in ScenarioExpectation.Verdict]
    for slug, raw in expect.items():
        place = f"{where}, {slug}"
        if slug not in routes:
            raise CatalogueError(f"{place}: no route has the slug “{slug}”.")
        if not isinstance(raw, dict):
            raise CatalogueError(f"{place}: give the verdict, e.g. {{verdict: fits}}.")
        fields = _pick(raw, EXPECTATION_FIELDS, place)
        if fields.get("verdict") not in verdicts:
            raise CatalogueError(
                f"{place}: the verdict is one of {', '.join(verdicts)}, "
                f"not “{fields.get('verdict')}”."
            )
        row = ScenarioExpectation(scenario=scenario, route=routes[slug], **fields)
        _check(row, place, exclude=["scenario", "route"])
        rows.append(row)
    return rows


def _differs(scenario: Scenario, fields: dict[str, Any], expect: dict[Any, Any]) -> bool:
    stored = export_scenario(scenario, [])
    given = {
        "name": fields.get("name"),
        "on": fields["on"],
        "answers": fields.get("answers", {}),
        "expect": {
            slug: _expectation(
                raw.get("verdict", ""), raw.get("checks", ""), raw.get("reason_contains", "")
            )
            if isinstance(raw, dict)
            else raw
            for slug, raw in expect.items()
        },
    }
    return bool(stored != given)


def _load_children(
    route: Route, raw: dict[str, Any], questions: dict[str, Question], where: str
) -> None:
    for j, fact in enumerate(_rows(raw.get("key_facts"), "key_facts", "key fact", where), 1):
        place = f"{where}, key fact {j}"
        _save(
            KeyFact(
                route=route, **_pick(fact, KEY_FACT_FIELDS, place), **_source_fields(fact, place)
            ),
            place,
        )
    requirements = _rows(raw.get("requirements"), "requirements", "requirement", where)
    for j, req in enumerate(requirements, start=1):
        place = f"{where}, requirement {j}"
        fields = _pick(req, REQUIREMENT_FIELDS, place)
        key = fields.pop("question", None)
        if not isinstance(key, str) or key not in questions:
            raise CatalogueError(f"{place}: no question has the key “{key}”.")
        requirement = Requirement(route=route, question=questions[key], order=j, **fields)
        _check(requirement, place)
        requirement.save()
        values = _rows(req.get("values"), "values", "value", place)
        if not values:
            raise CatalogueError(f"{place}: a requirement needs at least one dated value.")
        spans = []
        for k, item in enumerate(values, start=1):
            spot = f"{place}, value {k}"
            value_fields = _pick(item, VALUE_FIELDS, spot)
            for name in ("effective_from", "effective_until"):
                value_fields[name] = _date(value_fields.get(name), spot)
            row = RequirementValue(
                requirement=requirement, **value_fields, **_source_fields(item, spot)
            )
            _save(row, spot)
            spans.append((row.effective_from or dt.date.min, row.effective_until or dt.date.max))
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start <= end:
                day = "from the start" if start == dt.date.min else f"on {start.isoformat()}"
                raise CatalogueError(f"{place}: two values are in force {day}.")
    ordered: tuple[tuple[str, str, type[OpenQuestion | NextStep], tuple[str, ...]], ...] = (
        ("open_questions", "open question", OpenQuestion, OPEN_QUESTION_FIELDS),
        ("next_steps", "next step", NextStep, NEXT_STEP_FIELDS),
    )
    for name, label, model, names in ordered:
        for j, item in enumerate(_rows(raw.get(name), name, label, where), start=1):
            place = f"{where}, {label} {j}"
            fields = {**_pick(item, names, place), **_source_fields(item, place)}
            _save(model(route=route, order=j, **fields), place)
