"""Results as JSON and as plain text, for the `assess` command (and any later API)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from eligibility import wording
from eligibility.engine import (
    OpenQuestionResult,
    Points,
    RequirementResult,
    RouteResult,
    RuleBook,
    Source,
    Verdict,
    YearsBefore,
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
