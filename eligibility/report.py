"""Results as JSON and as plain text, for the `assess` command (and any later API)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django_countries import countries

from eligibility.engine import (
    FactTopic,
    KeyFactRule,
    Kind,
    OpenQuestionResult,
    Outcome,
    Points,
    QuestionRule,
    RequirementResult,
    RequirementRule,
    RouteResult,
    RouteRules,
    RuleBook,
    Source,
    Verdict,
    describe_rule,
    evaluate_routes,
    format_value,
)

MARKS = {Verdict.FITS: "✔", Verdict.MAY_FIT: "?", Verdict.DOES_NOT_FIT: "✘"}


def _points(points: Points | None) -> dict[str, Any] | None:
    if points is None:
        return None
    return {
        "earned": points.earned,
        "possible": points.possible,
        "needed": points.needed,
        "table_partial": points.partial,
    }


def _open_question(item: OpenQuestionResult) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": item.kind.value, "text": item.text}
    if item.question_key:
        data["question"] = item.question_key
    if item.topic:
        data["topic"] = item.topic
    if item.source:
        data["source"] = {
            "title": item.source.title,
            "url": item.source.url,
            "as_of": item.source.as_of.isoformat(),
        }
    return data


def as_json(results: tuple[RouteResult, ...], book: RuleBook, on: dt.date) -> dict[str, Any]:
    return {
        "evaluated_on": on.isoformat(),
        "rules_version": book.version,
        "routes": [
            {
                "slug": r.route.slug,
                "name": r.route.name,
                "country": r.route.country,
                "verdict": r.verdict.value,
                "reason": r.reason,
                "points": _points(r.points),
                "requirements": [
                    {
                        "question": req.rule.question.key,
                        "pathway": req.rule.pathway,
                        "outcome": req.outcome.value,
                        "explanation": req.explanation,
                    }
                    for req in r.requirements
                ],
                "gaps": list(r.gaps),
                "open_questions": [_open_question(o) for o in r.open_questions],
            }
            for r in results
        ],
    }


def as_text(results: tuple[RouteResult, ...], book: RuleBook, on: dt.date) -> str:
    lines = [f"Route Finder — evaluated on {on.isoformat()} against rules {book.version}", ""]
    order = [Verdict.FITS, Verdict.MAY_FIT, Verdict.DOES_NOT_FIT]
    for verdict in order:
        group = [r for r in results if r.verdict is verdict]
        if not group:
            continue
        lines.append(f"{verdict.label.upper()} ({len(group)})")
        for r in group:
            lines.append(f"  {MARKS[verdict]} {r.route.name} ({r.route.country}) — {r.reason}")
            if r.points is not None:
                needed = f" of {r.points.needed} needed" if r.points.needed is not None else ""
                more = (
                    "the table is only partly published"
                    if r.points.partial
                    else f"up to {r.points.possible} possible"
                )
                lines.append(f"      Points: {r.points.earned}{needed} ({more})")
            lines.extend(f"      Gap: {gap}" for gap in r.gaps)
            if verdict is not Verdict.DOES_NOT_FIT:
                lines.extend(
                    f"      Open: {o.topic + ': ' if o.topic else ''}{o.text}"
                    for o in r.open_questions
                )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# The results page (and the PDF, which renders the same template)

OUTCOME_LABELS = {Outcome.MET: "Met", Outcome.NOT_MET: "Not met", Outcome.UNKNOWN: "Unknown"}
COMPARED_TOPICS = (
    FactTopic.FEES,
    FactTopic.PROCESSING_TIME,
    FactTopic.PR_PATH,
    FactTopic.FAMILY,
    FactTopic.JOB_OFFER,
)


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """One rule beside the applicant's answer."""

    result: RequirementResult
    rule_text: str
    answer_text: str
    outcome_label: str

    @property
    def outcome(self) -> str:
        return self.result.outcome.value


@dataclass(frozen=True, slots=True)
class PointsLineRow:
    group: str
    earned: int
    possible: int
    items: tuple[RequirementRow, ...]


@dataclass(frozen=True, slots=True)
class RequirementGroup:
    """The rules every pathway shares (`pathway` blank, when the route has named pathways),
    or one named pathway's own rules with that pathway's outcome."""

    pathway: str
    outcome_label: str
    rows: tuple[RequirementRow, ...]
    shared: bool = False
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class RouteSection:
    """Everything the results page shows about one route."""

    result: RouteResult
    country_name: str
    requirements: tuple[RequirementRow, ...]
    requirement_groups: tuple[RequirementGroup, ...]
    points_lines: tuple[PointsLineRow, ...]
    key_facts: tuple[KeyFactRule, ...]
    sources: tuple[Source, ...]
    review_due_on: dt.date | None
    overdue: bool

    @property
    def route(self) -> RouteRules:
        return self.result.route

    @property
    def slug(self) -> str:
        return self.result.route.slug

    @property
    def verdict(self) -> str:
        return self.result.verdict.value

    @property
    def compared_facts(self) -> list[KeyFactRule | None]:
        """The comparison table's cells, in COMPARED_TOPICS order."""
        return [self.route.key_fact(topic) for topic in COMPARED_TOPICS]


@functools.lru_cache(maxsize=256)
def _named_countries(question: QuestionRule) -> QuestionRule:
    """A country question whose choices also name every country, for display: "Germany"
    rather than "DE". (The engine stays free of django-countries.)"""
    if question.kind is not Kind.COUNTRY:
        return question
    names = tuple((code, str(name)) for code, name in countries)
    return dataclasses.replace(question, choices=(*question.choices, *names))


def display_value(question: QuestionRule, value: Any, currency: str = "") -> str:
    """An answer as the applicant would say it, with country names, and numbers written out
    in full ("60,000", never the "6E+4" a normalised Decimal gives)."""
    if isinstance(value, Decimal) and not currency:
        return f"{value:,f}"
    return format_value(_named_countries(question), value, currency)


def display_rule(rule: RequirementRule, currency: str = "") -> str:
    """A rule in one line, with country names."""
    return describe_rule(
        dataclasses.replace(rule, question=_named_countries(rule.question)), currency
    )


def display_answers(book: RuleBook, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs in questionnaire order, with country names."""
    return [(q.label, display_value(q, answers[q.key])) for q in book.questions if q.key in answers]


def requirement_row(result: RequirementResult, currency: str) -> RequirementRow:
    question = result.rule.question
    if not result.answered:
        answer = "Not answered"
    else:
        answer = display_value(question, result.answer, currency)
    return RequirementRow(
        result=result,
        rule_text=display_rule(result.rule, currency),
        answer_text=answer,
        outcome_label=OUTCOME_LABELS[result.outcome],
    )


def requirement_groups(
    rows: tuple[RequirementRow, ...], result: RouteResult
) -> tuple[RequirementGroup, ...]:
    """Rows by pathway: the shared rules first, then each pathway with its outcome."""
    named = [p for p in result.pathways if p.name]
    if not named:
        return (RequirementGroup("", "", rows),) if rows else ()
    groups = []
    shared = tuple(r for r in rows if not r.result.rule.pathway)
    if shared:
        groups.append(RequirementGroup("", "", shared, shared=True))
    for pathway in named:
        own = tuple(r for r in rows if r.result.rule.pathway == pathway.name)
        groups.append(
            RequirementGroup(
                pathway.name,
                OUTCOME_LABELS[pathway.outcome],
                own,
                outcome=pathway.outcome.value,
            )
        )
    return tuple(groups)


def route_section(result: RouteResult, on: dt.date) -> RouteSection:
    route = result.route
    currency = route.currency
    rows = tuple(requirement_row(r, currency) for r in result.requirements)
    lines: tuple[PointsLineRow, ...] = ()
    if result.points is not None:
        lines = tuple(
            PointsLineRow(
                line.group,
                line.earned,
                line.possible,
                tuple(requirement_row(i, currency) for i in line.items),
            )
            for line in result.points.lines
        )
    found: dict[tuple[str, str, dt.date], Source] = {}
    for rule in route.requirements:
        found.setdefault((rule.source.title, rule.source.url, rule.source.as_of), rule.source)
    for fact in route.key_facts:
        found.setdefault((fact.source.title, fact.source.url, fact.source.as_of), fact.source)
    for item in route.open_questions:
        found.setdefault((item.source.title, item.source.url, item.source.as_of), item.source)
    return RouteSection(
        result=result,
        country_name=str(countries.name(route.country)) or route.country,
        requirements=rows,
        requirement_groups=requirement_groups(rows, result),
        points_lines=lines,
        key_facts=route.key_facts,
        sources=tuple(sorted(found.values(), key=lambda s: (s.title, s.as_of))),
        review_due_on=route.review_due_on,
        overdue=route.is_overdue(on),
    )


@dataclass(frozen=True, slots=True)
class VerdictGroup:
    verdict: Verdict
    sections: tuple[RouteSection, ...]

    @property
    def key(self) -> str:
        return self.verdict.value


def group_by_verdict(sections: list[RouteSection]) -> list[VerdictGroup]:
    """Fits, may fit, does not fit, in that order (empty groups included)."""
    order = (Verdict.FITS, Verdict.MAY_FIT, Verdict.DOES_NOT_FIT)
    return [VerdictGroup(v, tuple(s for s in sections if s.result.verdict is v)) for v in order]


@dataclass(frozen=True, slots=True)
class VerdictChange:
    name: str
    before: str
    after: str


def verdict_changes(
    before: dict[str, str], results: tuple[RouteResult, ...]
) -> list[VerdictChange]:
    """Routes whose verdict differs from a stored evaluation ({slug: verdict})."""
    labels = {v.value: v.label for v in Verdict}
    changes = []
    for r in results:
        old = before.get(r.route.slug)
        if old is not None and old != r.verdict.value:
            changes.append(VerdictChange(r.route.name, labels.get(old, old), r.verdict.label))
    gone = set(before) - {r.route.slug for r in results}
    changes.extend(
        VerdictChange(slug, labels.get(before[slug], ""), "No longer listed")
        for slug in sorted(gone)
    )
    return changes


def results_context(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date, *, for_print: bool = False
) -> dict[str, Any]:
    """What the results template needs, for the page and for the PDF alike. `outcome` holds
    the engine's results, for callers that record the evaluation."""
    outcome = evaluate_routes(book, answers, on)
    sections = [route_section(r, on) for r in outcome]
    return {
        "outcome": outcome,
        "book": book,
        "evaluated_on": on,
        "groups": group_by_verdict(sections),
        "sections": sections,
        "compared": [s for s in sections if s.verdict != Verdict.DOES_NOT_FIT],
        "compared_topics": [t.label for t in COMPARED_TOPICS],
        "answer_lines": display_answers(book, dict(answers)),
        "rules_changed": False,
        "changes": [],
        "for_print": for_print,
    }
