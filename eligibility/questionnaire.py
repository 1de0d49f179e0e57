"""The questionnaire's flow: which question comes next, how far along the applicant is, and
what the live route panel shows. Everything here is pure except `saved_answers` and
`save_answer`, which read and write an assessment's Answer rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eligibility import answers as answer_parsing
from eligibility.engine import (
    Kind,
    QuestionRule,
    RouteVerdict,
    RuleBook,
    Verdict,
    questions_that_matter,
    should_ask,
    verdicts,
)
from eligibility.models import Answer, Assessment

VERDICT_ORDER = (Verdict.FITS, Verdict.MAY_FIT, Verdict.DOES_NOT_FIT)


def parse_stored(book: RuleBook, rows: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Stored JSON answers as engine values. An answer that no longer parses (an adviser
    removed a choice, or the question is gone) counts as unanswered, so it is asked again."""
    questions = book.questions_by_key
    parsed: dict[str, Any] = {}
    for key, stored in rows:
        question = questions.get(key)
        if question is None:
            continue
        try:
            parsed[key] = answer_parsing.parse_answer(question, stored)
        except answer_parsing.AnswerError:
            continue
    return parsed


def saved_answers(assessment: Assessment, book: RuleBook) -> dict[str, Any]:
    """The assessment's answers as engine values, in one query."""
    rows = Answer.objects.filter(assessment=assessment).values_list("question_key", "value")
    return parse_stored(book, rows)


def to_stored(value: Any) -> Any:
    """An engine value as JSON: Decimals as plain strings ("52000", never "5.2E+4")."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, tuple):
        return list(value)
    return value


def save_answer(assessment: Assessment, key: str, value: Any) -> None:
    """Store one answer (None is "I don't know"); every other answer is left alone."""
    # One upsert statement: no read-then-write race between two tabs, and one query.
    Answer.objects.bulk_create(
        [Answer(assessment=assessment, question_key=key, value=to_stored(value))],
        update_conflicts=True,
        unique_fields=["assessment", "question_key"],
        update_fields=["value", "answered_at"],
    )


def as_field_value(question: QuestionRule, value: Any) -> str:
    """A stored answer as the form field shows it when the applicant changes it."""
    if value is None:
        return ""
    if question.kind is Kind.BOOLEAN:
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else ""
    return str(value)


def questions_to_ask(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """Unanswered questions, in questionnaire order, that are asked now: their "ask only if"
    holds and their answer could still change some route's verdict."""
    matter = questions_that_matter(book, answers, on)
    return [
        q
        for q in book.questions
        if q.key not in answers and q.key in matter and should_ask(q, book, answers, on)
    ]


def next_question(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> QuestionRule | None:
    """The next question to ask, or None when the applicant can check their answers."""
    remaining = questions_to_ask(book, answers, on)
    return remaining[0] if remaining else None


def previous_question(
    book: RuleBook, answers: Mapping[str, Any], current: QuestionRule
) -> QuestionRule | None:
    """The answered question just before `current`, for the Back link."""
    before = [
        q
        for q in book.questions
        if q.key in answers and (q.order, q.key) < (current.order, current.key)
    ]
    return before[-1] if before else None


def unasked_questions(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> list[QuestionRule]:
    """Unanswered questions that could be asked (their "ask only if" holds) but were
    skipped because no verdict depends on them: the summary offers them anyway."""
    return [q for q in book.questions if q.key not in answers and should_ask(q, book, answers, on)]


@dataclass(frozen=True, slots=True)
class Progress:
    answered: int
    at_most_left: int

    @property
    def step(self) -> int:
        return self.answered + 1


def progress(
    book: RuleBook,
    answers: Mapping[str, Any],
    on: dt.date,
    remaining: list[QuestionRule] | None = None,
) -> Progress:
    """How many questions are answered, and how many more at most (answers can only shorten
    the list, since an answer never makes a settled verdict unsettled). `remaining` saves
    working out questions_to_ask again when the caller has it."""
    if remaining is None:
        remaining = questions_to_ask(book, answers, on)
    answered = sum(1 for q in book.questions if q.key in answers)
    return Progress(answered=answered, at_most_left=len(remaining))


@dataclass(frozen=True, slots=True)
class RoutePanel:
    """The live panel beside each question: counts and each route's state."""

    results: tuple[RouteVerdict, ...]

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def fits(self) -> int:
        return self.count(Verdict.FITS)

    @property
    def may_fit(self) -> int:
        return self.count(Verdict.MAY_FIT)

    @property
    def ruled_out(self) -> int:
        return self.count(Verdict.DOES_NOT_FIT)

    @property
    def ordered(self) -> list[RouteVerdict]:
        return sorted(self.results, key=lambda r: VERDICT_ORDER.index(r.verdict))


def route_panel(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> RoutePanel:
    return RoutePanel(verdicts(book, answers, on))


def walk(book: RuleBook, profile: Mapping[str, Any], on: dt.date) -> list[str]:
    """The keys an applicant with these answers is asked, in order, following the flow. A key
    missing from the profile is answered "I don't know"."""
    answers: dict[str, Any] = {}
    asked: list[str] = []
    while (question := next_question(book, answers, on)) is not None:
        asked.append(question.key)
        answers[question.key] = profile.get(question.key)
    return asked
