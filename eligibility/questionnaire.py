"""The questionnaire's flow: which question comes next, how far along the applicant is, and
what the live route panel shows. Everything here is pure except `saved_answers` and
`save_answer`, which read and write an assessment's Answer rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django_countries import countries

from eligibility import answers as answer_parsing
from eligibility import wording
from eligibility.engine import (
    CITIZENSHIP,
    Kind,
    Outcome,
    QuestionRule,
    RequirementRule,
    RouteVerdict,
    RuleBook,
    Verdict,
    condition_outcome,
    deciding_questions,
    gate_outcomes,
    questions_that_matter,
    should_ask,
    verdict_of,
    verdicts,
)
from eligibility.models import Answer, Assessment

VERDICT_ORDER = (Verdict.FITS, Verdict.MAY_FIT, Verdict.DOES_NOT_FIT)
# Core question keys (a stable interface, like the engine's CITIZENSHIP).
DESTINATIONS: Final = "destination_countries"
OFFER_COUNTRY: Final = "job_offer_country"
# Asked of everyone, right after citizenship and in this order, whatever the routes need:
# where the applicant lives, and which countries they would consider.
ALWAYS_ASKED: Final = ("current_country", DESTINATIONS)
FIRST: Final = (CITIZENSHIP, *ALWAYS_ASKED)


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


def chosen_countries(book: RuleBook, answers: Mapping[str, Any]) -> frozenset[str] | None:
    """The destination countries the applicant picked, or None for all of them (unanswered,
    "I don't know", none ticked, or only countries that no longer have routes)."""
    picked = answers.get(DESTINATIONS)
    if not picked:
        return None
    chosen = frozenset(picked) & {route.country for route in book.routes}
    return chosen or None


def considered(book: RuleBook, answers: Mapping[str, Any]) -> RuleBook:
    """The rule book with only the routes in the countries the applicant picked."""
    chosen = chosen_countries(book, answers)
    if chosen is None:
        return book
    return dataclasses.replace(book, routes=tuple(r for r in book.routes if r.country in chosen))


def section_countries(book: RuleBook) -> dict[str, str]:
    """Each country's own section: a section named after a country that has routes
    ("Germany"; "United States" for the United States of America)."""
    sections = {q.section for q in book.questions if q.section}
    found: dict[str, str] = {}
    for code in {route.country for route in book.routes}:
        name = str(countries.name(code))
        for section in sections:
            if section == name or name.startswith(f"{section} "):
                found[section] = code
    return found


FlowKey = Callable[[QuestionRule], tuple[int, int, int, str]]


def flow_key(book: RuleBook, answers: Mapping[str, Any]) -> FlowKey:
    """The questionnaire's order: citizenship, where the applicant lives and the countries
    they would consider; the rest of the general sections; then the section of the country of
    the applicant's job offer, then the other countries' sections, each in its own order."""
    sections = section_countries(book)
    offer = answers.get(OFFER_COUNTRY)

    def key(question: QuestionRule) -> tuple[int, int, int, str]:
        country = sections.get(question.section)
        place = 0 if country is None else 1 if country == offer else 2
        first = FIRST.index(question.key) if question.key in FIRST else len(FIRST)
        return place, first, question.order, question.key

    return key


def _add_conditions(keys: set[str], book: RuleBook, follow: Callable[[str], bool]) -> None:
    """Add to `keys`, transitively, the questions their "ask only if" conditions ask, each
    where `follow` allows it."""
    questions = book.questions_by_key
    pending = list(keys)
    while pending:
        question = questions.get(pending.pop())
        for clause in question.ask_if if question else ():
            if clause.question not in keys and follow(clause.question):
                keys.add(clause.question)
                pending.append(clause.question)


def _may_be_asked(
    question: QuestionRule, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> bool:
    """Whether the question's "ask only if" can still hold: it is not already false, and it
    does not wait on an answer of "I don't know" (which it never will hold for)."""
    if any(answers.get(clause.question, "") is None for clause in question.ask_if):
        return False
    outcome = condition_outcome(question.ask_if, book.questions_by_key, answers, on)
    return outcome is not Outcome.NOT_MET


def _gate_keys(gate: RequirementRule) -> Iterator[str]:
    for rule in (gate, *gate.applies_if):
        yield rule.question.key
        if rule.question.month_key:
            yield rule.question.month_key
        if rule is not gate:
            yield from _gate_keys(rule)


def could_still_ask(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """Every unanswered question the flow might still ask, whatever the answers to come: the
    questions of each open gate of a route that may fit (with the month of a year, and what
    the gate's "applies only if" asks), the questions their "ask only if" needs, and those
    asked of everyone; less those whose "ask only if" can no longer hold. Answers only
    settle gates and routes, so this list only shrinks: its length is an honest "at most"."""
    needed = {key for key in ALWAYS_ASKED if key not in answers}
    for route in considered(book, answers).routes:
        checks = gate_outcomes(route, answers, on)
        if verdict_of(route, [(g, c.outcome) for g, c in checks], on) is not Verdict.MAY_FIT:
            continue
        for gate, check in checks:
            if check.outcome is Outcome.UNKNOWN:
                needed.update(_gate_keys(gate))
    _add_conditions(needed, book, lambda key: True)
    return [
        q
        for q in book.questions
        if q.key in needed and q.key not in answers and _may_be_asked(q, book, answers, on)
    ]


def questions_to_ask(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """Unanswered questions that are asked now, in the flow's order (see flow_key): their "ask
    only if" holds and their answer could still change the verdict of a route in a country the
    applicant picked. Where the applicant lives and the countries they would consider are asked
    of everyone. Before the first question of a country's own section come the general
    questions that some open route could still need, so that no general question is asked
    after a country's section."""
    matter = questions_that_matter(considered(book, answers), answers, on)
    questions = book.questions_by_key
    matter.update(key for key in ALWAYS_ASKED if key in questions and key not in answers)
    key = flow_key(book, answers)
    asked = sorted(
        (
            q
            for q in book.questions
            if q.key not in answers and q.key in matter and should_ask(q, book, answers, on)
        ),
        key=key,
    )
    if asked and key(asked[0])[0] > 0:
        general = [
            q
            for q in could_still_ask(book, answers, on)
            if key(q)[0] == 0 and q.key not in matter and should_ask(q, book, answers, on)
        ]
        asked = sorted([*general, *asked], key=key)
    return asked


def next_question(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> QuestionRule | None:
    """The next question to ask, or None when the applicant can check their answers."""
    remaining = questions_to_ask(book, answers, on)
    return remaining[0] if remaining else None


def asked_order(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """The answered questions in the order the flow asked them (replayed: the order depends
    on the answers), up to the first one the flow would ask now."""
    replayed: dict[str, Any] = {}
    order: list[QuestionRule] = []
    while (question := next_question(book, replayed, on)) is not None and (question.key in answers):
        order.append(question)
        replayed[question.key] = answers[question.key]
    return order


def previous_question(
    book: RuleBook, answers: Mapping[str, Any], current: QuestionRule, on: dt.date
) -> QuestionRule | None:
    """The question asked just before `current`, for the Back link."""
    order = asked_order(book, answers, on)
    keys = [q.key for q in order]
    if current.key in keys:
        index = keys.index(current.key)
        return order[index - 1] if index else None
    return order[-1] if order else None


@dataclass(frozen=True, slots=True)
class OpenAnswers:
    """What the check page and the results page say about questions not (yet) answered for
    good. `deciding`: unanswered or "I don't know" questions whose answer could still change
    some route's verdict (any route: those in countries not picked too), with the questions
    that their "ask only if" needs first. `skipped`: unanswered questions that could be
    asked but on which no result depends."""

    deciding: tuple[QuestionRule, ...]
    skipped: tuple[QuestionRule, ...]


def open_answers(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> OpenAnswers:
    """The one reading of "what could still change a result" (see OpenAnswers)."""
    keys: set[str] = set()
    for route in book.routes:
        keys.update(deciding_questions(route, answers, on))
    _add_conditions(keys, book, lambda key: answers.get(key) is None)
    deciding = tuple(q for q in book.questions if q.key in keys)
    skipped = tuple(
        q
        for q in book.questions
        if q.key not in answers and q.key not in keys and should_ask(q, book, answers, on)
    )
    return OpenAnswers(deciding, skipped)


@dataclass(frozen=True, slots=True)
class Progress:
    answered: int
    at_most_left: int


def progress(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> Progress:
    """How many questions are answered, and how many more at most: every question the flow
    might still ask (could_still_ask), so the number never promises fewer than are asked and
    never goes up from one step to the next."""
    answered = sum(1 for q in book.questions if q.key in answers)
    return Progress(answered=answered, at_most_left=len(could_still_ask(book, answers, on)))


_COUNT_WORDS: Final = {
    # verdict: (one route, several routes)
    Verdict.FITS: ("fits", "fit"),
    Verdict.MAY_FIT: ("may fit", "may fit"),
    Verdict.DOES_NOT_FIT: ("does not fit", "do not fit"),
}


@dataclass(frozen=True, slots=True)
class PanelRoute:
    name: str  # "EU Blue Card, Germany"
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class RoutePanel:
    """The live panel beside each question: counts, each route's state, and what changed
    since the step before (what a screen reader announces)."""

    results: tuple[RouteVerdict, ...]
    previous: tuple[RouteVerdict, ...] | None = None

    def count(self, verdict: Verdict) -> int:
        return sum(1 for r in self.results if r.verdict is verdict)

    @property
    def counts(self) -> list[tuple[int, str]]:
        """(2, "fit"), (1, "may fit"), (10, "do not fit")."""
        return [
            (n, _COUNT_WORDS[v][0 if n == 1 else 1]) for v in VERDICT_ORDER for n in [self.count(v)]
        ]

    @property
    def fits(self) -> int:
        return self.count(Verdict.FITS)

    @property
    def ordered(self) -> list[PanelRoute]:
        ordered = sorted(self.results, key=lambda r: VERDICT_ORDER.index(r.verdict))
        return [
            PanelRoute(f"{r.route.name}, {wording.country_name(r.route.country)}", r.verdict)
            for r in ordered
        ]

    @property
    def news(self) -> str:
        """What changed since the previous step, in one short sentence ("2 more routes fit,
        2 fewer routes may fit."); empty when nothing did, so that nothing is announced."""
        if self.previous is None:
            return ""
        parts = []
        for verdict in VERDICT_ORDER:
            before = sum(1 for r in self.previous if r.verdict is verdict)
            change = self.count(verdict) - before
            if change == 0:
                continue
            one, several = _COUNT_WORDS[verdict]
            routes = "route" if abs(change) == 1 else "routes"
            verb = one if abs(change) == 1 else several
            if change > 0:
                parts.append(f"{change} more {routes} {verb}")
            else:
                parts.append(f"{-change} fewer {routes} {verb}")
        if not parts:
            return ""
        text = ", ".join(parts)
        return text[:1].upper() + text[1:] + "."


def route_panel(
    book: RuleBook,
    answers: Mapping[str, Any],
    on: dt.date,
    before: Mapping[str, Any] | None = None,
) -> RoutePanel:
    """The panel for the routes in the countries the applicant picked; with `before` (the
    answers one step earlier), it also says what changed."""
    routes = considered(book, answers)
    previous = None if before is None else verdicts(routes, before, on)
    return RoutePanel(verdicts(routes, answers, on), previous)


def walk(book: RuleBook, profile: Mapping[str, Any], on: dt.date) -> list[str]:
    """The keys an applicant with these answers is asked, in order, following the flow. A key
    missing from the profile is answered "I don't know"."""
    answers: dict[str, Any] = {}
    asked: list[str] = []
    while (question := next_question(book, answers, on)) is not None:
        asked.append(question.key)
        answers[question.key] = profile.get(question.key)
    return asked
