"""The route catalogue as a readable YAML file with natural keys (question keys, route slugs),
so advisers can move rules between installations. `export_catalogue` and `import_catalogue`
round-trip it exactly."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from eligibility.models import (
    KeyFact,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
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


def _number(value: Decimal | float | None) -> int | float | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _conditions(clauses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clauses in a fixed key order: PostgreSQL's jsonb does not keep the order they had."""
    order = ("question", "operator", "value")
    return [{k: c[k] for k in (*order, *sorted(set(c) - set(order))) if k in c} for c in clauses]


def _source(row: RequirementValue | KeyFact | OpenQuestion) -> dict[str, Any]:
    source = {"title": row.source_title, "url": row.source_url, "as_of": row.source_as_of}
    if row.source_as_of_approximate:
        source["as_of_approximate"] = True
    return source


def export_question(q: Question) -> dict[str, Any]:
    row = {name: getattr(q, name) for name in QUESTION_FIELDS}
    row["min_value"], row["max_value"] = _number(q.min_value), _number(q.max_value)
    row["ask_if"] = _conditions(q.ask_if)
    return row


def export_route(route: Route) -> dict[str, Any]:
    """One route with its key facts, requirements and open questions (best prefetched)."""
    row = {name: getattr(route, name) for name in ROUTE_FIELDS}
    row["country"] = route.country.code
    row["key_facts"] = [
        {**{n: getattr(f, n) for n in KEY_FACT_FIELDS}, "source": _source(f)}
        for f in sorted(
            route.key_facts.all(),
            key=lambda f: list(KeyFact.Topic).index(KeyFact.Topic(f.topic)),
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
    return row


def export_data() -> dict[str, Any]:
    """Every question and route (drafts too), in display order."""
    routes = Route.objects.order_by("slug").prefetch_related(
        "key_facts", "open_questions", "requirements__question", "requirements__values"
    )
    return {
        "questions": [export_question(q) for q in Question.objects.order_by("order", "key")],
        "routes": [export_route(route) for route in routes],
    }


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export_catalogue() -> str:
    return "# Route Finder catalogue: questions and routes with their sources.\n" + dump(
        export_data()
    )


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
    if not source.get("title") or not source.get("as_of"):
        raise CatalogueError(
            f"{where}: every rule, key fact and open question needs a source "
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


def _save(row: KeyFact | RequirementValue | OpenQuestion, where: str) -> None:
    _check(row, where)
    row.save()


def _pick(raw: dict[str, Any], names: tuple[str, ...], where: str) -> dict[str, Any]:
    nested = {"source", "key_facts", "requirements", "open_questions", "values"}
    unknown = set(raw) - set(names) - nested
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
    return {n: raw[n] for n in names if n in raw}


def parse(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise CatalogueError(f"The catalogue is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise CatalogueError("The catalogue must have `questions:` and `routes:` lists.")
    return data


@transaction.atomic
def import_catalogue(text: str, *, replace: bool = False) -> ImportReport:
    """Load questions and routes. Existing questions and routes are left as advisers edited
    them (skipped), unless `replace` is set, which replaces routes of the same slug. Either
    everything loads or nothing does."""
    data = parse(text)
    report = ImportReport()
    places: dict[str, str] = {}
    for i, raw in enumerate(data.get("questions") or [], start=1):
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
        later = question.ask_if, question.month_question
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
    for i, raw in enumerate(data.get("routes") or [], start=1):
        where = f"route {i} ({raw.get('slug', '?')})"
        fields = _pick(raw, ROUTE_FIELDS, where)
        existing = Route.objects.filter(slug=fields.get("slug")).first()
        if existing is not None and not replace:
            report.routes_skipped.append(existing.slug)
            if export_route(existing) != raw:
                report.routes_edited.append(existing.slug)
            continue
        if existing is not None:
            existing.delete()
            report.routes_replaced.append(existing.slug)
        for name in ("last_verified_on", "opens_on", "closes_on", "points_table_partial_from"):
            fields[name] = _date(fields.get(name), where)
        route = Route(**fields)
        _check(route, where)
        route.save()
        _load_children(route, raw, questions, where)
        if existing is None:
            report.routes_created.append(route.slug)
    return report


def _load_children(
    route: Route, raw: dict[str, Any], questions: dict[str, Question], where: str
) -> None:
    for j, fact in enumerate(raw.get("key_facts") or [], start=1):
        place = f"{where}, key fact {j}"
        _save(
            KeyFact(
                route=route, **_pick(fact, KEY_FACT_FIELDS, place), **_source_fields(fact, place)
            ),
            place,
        )
    for j, req in enumerate(raw.get("requirements") or [], start=1):
        place = f"{where}, requirement {j}"
        fields = _pick(req, REQUIREMENT_FIELDS, place)
        key = fields.pop("question", None)
        if key not in questions:
            raise CatalogueError(f"{place}: no question has the key “{key}”.")
        requirement = Requirement(route=route, question=questions[key], order=j, **fields)
        _check(requirement, place)
        requirement.save()
        values = req.get("values") or []
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
    for j, item in enumerate(raw.get("open_questions") or [], start=1):
        place = f"{where}, open question {j}"
        _save(
            OpenQuestion(
                route=route,
                order=j,
                **_pick(item, OPEN_QUESTION_FIELDS, place),
                **_source_fields(item, place),
            ),
            place,
        )
