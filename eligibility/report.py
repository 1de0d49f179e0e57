"""Results as JSON and as plain text, for the `assess` command (and any later API)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from eligibility.engine import (
    OpenQuestionResult,
    Points,
    RouteResult,
    RuleBook,
    Verdict,
    format_value,
)

MARKS = {Verdict.FITS: "✔", Verdict.MAY_FIT: "?", Verdict.DOES_NOT_FIT: "✘"}


def _points(points: Points | None) -> dict[str, Any] | None:
    if points is None:
        return None
    return {"earned": points.earned, "possible": points.possible, "needed": points.needed}


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
                lines.append(
                    f"      Points: {r.points.earned}{needed} (up to {r.points.possible} possible)"
                )
            lines.extend(f"      Gap: {gap}" for gap in r.gaps)
            if verdict is not Verdict.DOES_NOT_FIT:
                lines.extend(f"      Open: {o.text}" for o in r.open_questions)
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_lines(book: RuleBook, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs in questionnaire order, for summaries."""
    return [(q.label, format_value(q, answers[q.key])) for q in book.questions if q.key in answers]
