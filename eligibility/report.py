"""Results as JSON and as plain text, for the `assess` command (and any later API)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django_countries import countries

from eligibility import wording
from eligibility.engine import (
    FactTopic,
    KeyFactRule,
    OpenQuestionKind,
    OpenQuestionResult,
    Outcome,
    Points,
    QuestionRule,
    RequirementResult,
    RouteResult,
    RouteRules,
    RuleBook,
    Source,
    Verdict,
    YearsBefore,
    evaluate_routes,
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


def _source(source: Source) -> dict[str, Any]:
    return {
        "title": source.title,
        "url": source.url,
        "as_of": source.as_of.isoformat(),
        "as_of_approximate": source.as_of_approximate,
    }


def _open_question(item: OpenQuestionResult, book: RuleBook, currency: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": item.kind.value,
        "decides": item.decides,
        "text": wording.open_question_text(item, book, currency),
    }
    if item.question_key:
        data["question"] = item.question_key
    if item.topic:
        data["topic"] = item.topic
    if item.source:
        data["source"] = _source(item.source)
    return data


def _json_value(value: Any) -> Any:
    if isinstance(value, YearsBefore):
        return {"years_before": value.years}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    return value


def _requirement(req: RequirementResult, route: RouteResult) -> dict[str, Any]:
    value = req.value
    data: dict[str, Any] = {
        "question": req.rule.question.key,
        "pathway": req.rule.pathway,
        "operator": req.rule.operator.value,
        "outcome": req.outcome.value,
        "rule": wording.requirement_text(req, route.route.currency),
        "explanation": wording.gate_explanation(req, route),
        "answer": _json_value(req.answer) if req.answered else None,
        "answered": req.answered,
    }
    if req.why is not None:
        data["unknown_because"] = req.why.value
    if not req.check.applies:
        data["applies"] = False
    if value is not None:
        data["value"] = {
            "value": _json_value(value.value),
            "compared_with": _json_value(req.check.target),
            "certainty": value.certainty.value,
            "effective_from": value.effective_from.isoformat() if value.effective_from else None,
            "effective_until": value.effective_until.isoformat() if value.effective_until else None,
            "source": _source(value.source),
        }
    if req.gap is not None:
        data["gap"] = {"amount": format(req.gap.amount, "f"), "unit": req.gap.unit}
    if req.rule.points is not None:
        data["points"] = req.rule.points
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
                "needs_no_visa": r.needs_no_visa,
                "closed": r.closure.value if r.closure else None,
                "reason": wording.reason(r),
                "points": _points(r.points),
                "requirements": [_requirement(req, r) for req in r.requirements],
                "gaps": wording.gap_lines(r),
                "open_questions": [
                    _open_question(o, book, r.route.currency) for o in r.open_questions
                ],
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
            lines.append(
                f"  {MARKS[verdict]} {r.route.name} ({r.route.country}) — {wording.reason(r)}"
            )
            if r.points is not None:
                needed = f" of {r.points.needed} needed" if r.points.needed is not None else ""
                more = (
                    "the table is only partly published"
                    if r.points.partial
                    else f"up to {r.points.possible} possible"
                )
                lines.append(f"      Points: {r.points.earned}{needed} ({more})")
            lines.extend(f"      Gap: {gap}" for gap in wording.gap_lines(r))
            lines.extend(
                f"      {'Could decide' if o.decides else 'To know'}: "
                f"{o.topic + ': ' if o.topic else ''}"
                f"{wording.open_question_text(o, book, r.route.currency)}"
                for o in r.open_questions
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------------------------------
# The results page (and the PDF, which renders the same template)

OUTCOME_LABELS = {Outcome.MET: "Met", Outcome.NOT_MET: "Not met", Outcome.UNKNOWN: "Unknown"}
NOT_APPLYING = "Does not apply"
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
        return self.result.outcome.value if self.result.check.applies else "not_applying"


@dataclass(frozen=True, slots=True)
class OpenQuestionRow:
    """An open question as the page shows it; `answerable` ones link to their question."""

    text: str
    topic: str
    question_key: str | None
    source: Source | None
    answerable: bool
    decides: bool = True


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
    reason: str
    gaps: tuple[str, ...]
    open_questions: tuple[OpenQuestionRow, ...]
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
    def deciding(self) -> tuple[OpenQuestionRow, ...]:
        """What could still decide this route."""
        return tuple(o for o in self.open_questions if o.decides)

    @property
    def to_know(self) -> tuple[OpenQuestionRow, ...]:
        """The adviser's other things to know about it."""
        return tuple(o for o in self.open_questions if not o.decides)

    @property
    def compared_facts(self) -> list[KeyFactRule | None]:
        """The comparison table's cells, in COMPARED_TOPICS order."""
        return [self.route.key_fact(topic) for topic in COMPARED_TOPICS]


def display_value(question: QuestionRule, value: Any, currency: str = "") -> str:
    """An answer as the applicant would say it, with country names, and numbers written out
    in full ("60,000", never the "6E+4" a normalised Decimal gives)."""
    return wording.format_value(question, value, currency)


def display_answers(book: RuleBook, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs in questionnaire order, with country names."""
    return [(q.label, display_value(q, answers[q.key])) for q in book.questions if q.key in answers]


def requirement_row(result: RequirementResult, currency: str) -> RequirementRow:
    return RequirementRow(
        result=result,
        rule_text=wording.requirement_text(result, currency),
        answer_text=wording.answer_text(result, currency),
        outcome_label=OUTCOME_LABELS[result.outcome] if result.check.applies else NOT_APPLYING,
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


def route_section(result: RouteResult, on: dt.date, book: RuleBook) -> RouteSection:
    route = result.route
    currency = route.currency
    # The citizenship gate is shown only when it decides: it is in every route.
    citizen = result.requirements[0]
    gates = result.requirements[1:] if citizen.outcome is Outcome.MET else result.requirements
    rows = tuple(requirement_row(r, currency) for r in gates)
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
        for source in rule.sources:
            found.setdefault((source.title, source.url, source.as_of), source)
    for fact in route.key_facts:
        found.setdefault((fact.source.title, fact.source.url, fact.source.as_of), fact.source)
    for item in route.open_questions:
        found.setdefault((item.source.title, item.source.url, item.source.as_of), item.source)
    return RouteSection(
        result=result,
        country_name=str(countries.name(route.country)) or route.country,
        reason=wording.reason(result),
        gaps=tuple(wording.gap_lines(result)),
        open_questions=tuple(
            OpenQuestionRow(
                text=wording.open_question_text(o, book, currency),
                topic=o.topic,
                question_key=o.question_key,
                source=o.source,
                answerable=o.kind in (OpenQuestionKind.UNANSWERED, OpenQuestionKind.DONT_KNOW),
                decides=o.decides,
            )
            for o in result.open_questions
        ),
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
    key: str
    label: str
    sections: tuple[RouteSection, ...]


def group_by_verdict(sections: list[RouteSection]) -> list[VerdictGroup]:
    """Fits, may fit, does not fit, in that order (empty groups included), and apart from
    them the routes of countries the applicant is a citizen of, who needs no visa there."""
    order = (Verdict.FITS, Verdict.MAY_FIT, Verdict.DOES_NOT_FIT)
    groups = [
        VerdictGroup(
            v.value,
            v.label,
            tuple(s for s in sections if s.result.verdict is v and not s.result.needs_no_visa),
        )
        for v in order
    ]
    citizen = tuple(s for s in sections if s.result.needs_no_visa)
    if citizen:
        groups.append(VerdictGroup("no_visa_needed", "No visa needed", citizen))
    return groups


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
    sections = [route_section(r, on, book) for r in outcome]
    return {
        "outcome": outcome,
        "book": book,
        "evaluated_on": on,
        "groups": group_by_verdict(sections),
        "sections": sections,
        "compared": [s for s in sections if s.result.verdict is not Verdict.DOES_NOT_FIT],
        "compared_topics": [t.label for t in COMPARED_TOPICS],
        "answer_lines": display_answers(book, dict(answers)),
        "rules_changed": False,
        "changes": [],
        "for_print": for_print,
    }
