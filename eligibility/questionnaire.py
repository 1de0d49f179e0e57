"""The questionnaire's flow: which question comes next, how far along the applicant is, and
what the live route panel shows. Everything here is pure except `saved_answers` and
`save_answer`, which read and write an assessment's Answer rows."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import threading
from collections.abc import Callable, Container, Hashable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from django.utils import translation
from django_countries import countries

from eligibility import answers as answer_parsing
from eligibility import engine, wording
from eligibility.engine import (
    CITIZENSHIP,
    Kind,
    Outcome,
    QuestionRule,
    RouteOnDate,
    RouteVerdict,
    RuleBook,
    Standing,
    Verdict,
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
    chosen = frozenset(picked) & _flow(book).countries
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
    return dict(_flow(book).sections)


def should_ask(
    question: QuestionRule, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> bool:
    """A question is asked when its "ask only if" holds (not merely might hold)."""
    return engine.should_ask(question, book, answers, on)


def route_currency(book: RuleBook, country: str | None) -> str:
    """The currency of the first route in a country ("" for none)."""
    return _flow(book).currencies.get(country or "", "")


def year_question(book: RuleBook, month_key: str) -> QuestionRule | None:
    """The year question whose month is asked by `month_key`, if any."""
    return _flow(book).years.get(month_key)


FlowKey = Callable[[QuestionRule], tuple[int, int, int, str]]


def flow_key(book: RuleBook, answers: Mapping[str, Any]) -> FlowKey:
    """The questionnaire's order: citizenship, where the applicant lives and the countries
    they would consider; the rest of the general sections; then the section of the country of
    the applicant's job offer, then the other countries' sections, each in its own order."""
    flow = _flow(book)
    offer = answers.get(OFFER_COUNTRY)

    def key(question: QuestionRule) -> tuple[int, int, int, str]:
        country = flow.sections.get(question.section)
        place = 0 if country is None else 1 if country == offer else 2
        first = FIRST.index(question.key) if question.key in FIRST else len(FIRST)
        return place, first, question.order, question.key

    return key


# ---------------------------------------------------------------------------------------------
# The rule book as the questionnaire reads it, worked out once per book


class _Memo[K: Hashable, V]:
    """A bounded map of results already worked out: when full, the oldest entry goes."""

    def __init__(self, size: int) -> None:
        self._items: dict[K, V] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K, work_out: Callable[[], V]) -> V:
        found = self._items.get(key, _ABSENT)
        if found is not _ABSENT:
            return found  # type: ignore[return-value]
        value = work_out()
        with self._lock:
            if len(self._items) >= self._size:
                del self._items[next(iter(self._items))]
            self._items[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_ABSENT: Final = object()
# Each route's standing under the answers it reads: a few thousand are enough for the steps of
# the assessments in progress on this process.
MEMO_SIZE: Final = 4096
# The readings of the last few steps' answers, shared by the calls of a step.
READINGS: Final = 64


class Flow:
    """A rule book as the questionnaire reads it, worked out once: each route compiled
    (engine.CompiledRoute), each "ask only if" as gates, and which sections, currencies and
    routes belong to which country. It keeps each route's standing under the answers that
    route reads, so that the next question, the progress and the panel (before and after an
    answer) work out a route once per step, and a later step works out again only the routes
    that read an answer that changed. A Flow belongs to one RuleBook object: rules that change
    make a new book, and so a new Flow, never a stale result."""

    def __init__(self, book: RuleBook) -> None:
        self.book = book
        self.routes = tuple(engine.compile_route(route) for route in book.routes)
        self.everywhere = tuple(range(len(self.routes)))
        # Each route's three possible lines of the panel, made once.
        self.verdicts = tuple({v: RouteVerdict(route, v) for v in Verdict} for route in book.routes)

        self._readers: dict[str, list[int]] = {}
        for index, compiled in enumerate(self.routes):
            for key in compiled.reads:
                self._readers.setdefault(key, []).append(index)
        self.questions = book.questions_by_key
        self.countries = frozenset(route.country for route in book.routes)
        self.conditions = {
            q.key: tuple(engine.clause_gate(c, self.questions.get(c.question)) for c in q.ask_if)
            for q in book.questions
            if q.ask_if
        }
        self.with_conditions = tuple(q for q in book.questions if q.ask_if)
        self.sections = _section_countries(book)
        self.currencies: dict[str, str] = {}
        for route in book.routes:
            self.currencies.setdefault(route.country, route.currency)
        self.years: dict[str, QuestionRule] = {}
        for question in book.questions:
            if question.month_key:
                self.years.setdefault(question.month_key, question)
        self.standings: _Memo[Hashable, Standing] = _Memo(MEMO_SIZE)
        self.readings: _Memo[Hashable, _Reading] = _Memo(READINGS)
        self._days: _Memo[dt.date, tuple[RouteOnDate, ...]] = _Memo(2)

    def on(self, day: dt.date) -> tuple[RouteOnDate, ...]:
        """Every route on a date (the values in force then), worked out once per date."""
        return self._days.get(day, lambda: tuple(engine.route_on(r, day) for r in self.routes))

    def readers(self, keys: Iterable[str] | None) -> frozenset[int] | range:
        """The routes whose gates read any of these answers (None: every route)."""
        if keys is None:
            return range(len(self.routes))
        return frozenset(i for key in keys for i in self._readers.get(key, ()))

    def considered(self, answers: Mapping[str, Any]) -> tuple[int, ...]:
        """The routes in the countries the applicant picked (see chosen_countries)."""
        picked = answers.get(DESTINATIONS)
        chosen = frozenset(picked) & self.countries if picked else None
        if not chosen:
            return self.everywhere
        return tuple(i for i, r in enumerate(self.routes) if r.route.country in chosen)


def _section_countries(book: RuleBook) -> dict[str, str]:
    sections = {q.section for q in book.questions if q.section}
    found: dict[str, str] = {}
    for code in {route.country for route in book.routes}:
        name = str(countries.name(code))
        for section in sections:
            if section == name or name.startswith(f"{section} "):
                found[section] = code
    return found


_FLOWS: dict[int, Flow] = {}
_FLOWS_LOCK = threading.Lock()
MOST_FLOWS: Final = 4  # the published book, and the odd draft or test book beside it


def _flow(book: RuleBook) -> Flow:
    """The book's Flow, made on first use. Kept by the book object's identity, never by its
    version alone: a RuleBook with the same version but other routes (see `considered`)
    gets a Flow of its own."""
    found = _FLOWS.get(id(book))
    if found is not None and found.book is book:
        return found
    flow = Flow(book)
    with _FLOWS_LOCK:
        while len(_FLOWS) >= MOST_FLOWS:
            del _FLOWS[next(iter(_FLOWS))]
        _FLOWS[id(book)] = flow  # holds the book, so its id is not reused while kept
    return flow


def forget_cached_answers() -> None:
    """Drop everything kept for some answers (the compiled books stay)."""
    for flow in list(_FLOWS.values()):
        flow.standings.clear()
        flow.readings.clear()


def _reading(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> _Reading:
    """The reading of these answers on this date, shared by the calls of one step."""
    flow = _flow(book)
    frozen = {key: _frozen(value) for key, value in answers.items()}
    if None in frozen.values():
        return _Reading(flow, answers, on, None)
    kept = frozenset(frozen.items())
    return flow.readings.get((on, kept), lambda: _Reading(flow, answers, on, frozen))


_SCALARS: Final = frozenset({str, int, bool, Decimal, float, type(None)})


def _frozen(value: Any) -> Hashable | None:
    """An answer as part of a memo key: its type beside it, since 1, True and Decimal(1) are
    equal to Python but not to the engine. None for a value that cannot be a key."""
    kind = type(value)
    if kind in _SCALARS:
        return (kind, value)
    if kind is tuple or kind is list:
        items = tuple(_frozen(item) for item in value)
        return None if None in items else (kind, items)
    return None


class _Reading:
    """Some answers read against a Flow on a date: each route's standing (kept in the Flow's
    memo, for the answers the route reads) and each "ask only if". The next question, the
    progress and the panel of one step share one reading."""

    __slots__ = ("_standings", "answers", "conditions", "flow", "frozen", "on", "routes")

    def __init__(
        self,
        flow: Flow,
        answers: Mapping[str, Any],
        on: dt.date,
        frozen: dict[str, Hashable] | None,
    ) -> None:
        self.flow = flow
        self.answers = dict(answers)  # kept: later changes to the caller's dict are not ours
        self.on = on
        self.frozen = frozen
        self.routes = flow.on(on)
        self.conditions: dict[str, Outcome] = {}
        self._standings: list[Standing | None] = [None] * len(self.routes)

    def changed_since(self, earlier: _Reading) -> set[str] | None:
        """The questions answered otherwise in `earlier` (or answered in one only); None when
        that cannot be told."""
        if self.frozen is None or earlier.frozen is None:
            return None
        now, then = self.frozen, earlier.frozen
        return {key for key in now.keys() | then.keys() if now.get(key) != then.get(key)}

    def standing(self, index: int) -> Standing:
        found = self._standings[index]
        if found is None:
            found = self._work_out(index)
            self._standings[index] = found
        return found

    def _work_out(self, index: int) -> Standing:
        route = self.routes[index]
        if self.frozen is None:
            return engine.standing(route, self.answers)
        frozen, reads = self.frozen, route.route.reads
        key = index, self.on, tuple(map(frozen.get, reads))  # None: not answered

        # Worked out from only the answers the route reads, so that it cannot depend on an
        # answer missing from its key.
        answers = self.answers
        read = {k: answers[k] for k in reads if k in answers}
        return self.flow.standings.get(key, lambda: engine.standing(route, read))

    def deciding(self, index: int, skip: Container[str] = ()) -> tuple[str, ...]:
        """The route's deciding questions (engine.deciding_questions) not in `skip`."""
        return engine.deciding(self.routes[index], self.standing(index), skip)

    def condition(self, question: QuestionRule) -> Outcome:
        """Whether the question's "ask only if" holds (engine.condition_outcome)."""
        outcome = self.conditions.get(question.key)
        if outcome is None:
            gates = self.flow.conditions.get(question.key, ())
            outcome = engine.all_of(
                engine.check_gate(gate, self.answers, self.on).outcome for gate in gates
            )
            self.conditions[question.key] = outcome
        return outcome

    def should_ask(self, question: QuestionRule) -> bool:
        """A question is asked when its "ask only if" holds (not merely might hold)."""
        return self.condition(question) is Outcome.MET

    def may_be_asked(self, question: QuestionRule) -> bool:
        """Whether the question's "ask only if" can still hold: it is not already false, and
        it does not wait on an answer of "I don't know" (which it never will hold for)."""
        if any(self.answers.get(clause.question, "") is None for clause in question.ask_if):
            return False
        return self.condition(question) is not Outcome.NOT_MET


def _add_conditions(keys: set[str], flow: Flow, follow: Callable[[str], bool]) -> None:
    """Add to `keys`, transitively, the questions their "ask only if" conditions ask, each
    where `follow` allows it."""
    questions = flow.questions
    pending = list(keys)
    while pending:
        question = questions.get(pending.pop())
        for clause in question.ask_if if question else ():
            if clause.question not in keys and follow(clause.question):
                keys.add(clause.question)
                pending.append(clause.question)


def could_still_ask(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """Every unanswered question the flow might still ask, whatever the answers to come: the
    questions of each open gate of a route that may fit (with the month of a year, and what
    the gate's "applies only if" asks), the questions their "ask only if" needs, and those
    asked of everyone; less those whose "ask only if" can no longer hold. Answers only
    settle gates and routes, so this list only shrinks: its length is an honest "at most"."""
    return _could_still_ask(_reading(book, answers, on))


def _could_still_ask(reading: _Reading) -> list[QuestionRule]:
    answers, flow = reading.answers, reading.flow
    needed = {key for key in ALWAYS_ASKED if key not in answers}
    for index in flow.considered(answers):
        needed.update(engine.open_asks(flow.routes[index], reading.standing(index)))
    _add_conditions(needed, flow, lambda key: True)
    return [
        q
        for q in flow.book.questions
        if q.key in needed and q.key not in answers and reading.may_be_asked(q)
    ]


def _questions_that_matter(reading: _Reading, routes: Iterable[int]) -> set[str]:
    """engine.questions_that_matter for some of the book's routes. A question known to
    decide one route, or answered, is not tried again on the others."""
    answers = reading.answers
    matter: set[str] = set()
    tried = set(answers)
    for index in routes:
        found = reading.deciding(index, tried)
        matter.update(found)
        tried.update(found)
    for question in reading.flow.with_conditions:
        if question.key in matter:
            matter.update(c.question for c in question.ask_if if c.question not in answers)
    return matter


def questions_to_ask(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> list[QuestionRule]:
    """Unanswered questions that are asked now, in the flow's order (see flow_key): their "ask
    only if" holds and their answer could still change the verdict of a route in a country the
    applicant picked. Where the applicant lives and the countries they would consider are asked
    of everyone. Before the first question of a country's own section come the general
    questions that some open route could still need, so that no general question is asked
    after a country's section."""
    reading = _reading(book, answers, on)
    flow = reading.flow
    matter = _questions_that_matter(reading, flow.considered(answers))
    matter.update(key for key in ALWAYS_ASKED if key in flow.questions and key not in answers)
    key = flow_key(book, answers)
    asked = sorted(
        (
            q
            for q in book.questions
            if q.key not in answers and q.key in matter and reading.should_ask(q)
        ),
        key=key,
    )
    if asked and key(asked[0])[0] > 0:
        general = [
            q
            for q in _could_still_ask(reading)
            if key(q)[0] == 0 and q.key not in matter and reading.should_ask(q)
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
    reading = _reading(book, answers, on)
    flow = reading.flow
    keys: set[str] = set()
    for index in flow.everywhere:
        keys.update(reading.deciding(index, keys))
    _add_conditions(keys, flow, lambda key: answers.get(key) is None)
    deciding = tuple(q for q in book.questions if q.key in keys)
    skipped = tuple(
        q
        for q in book.questions
        if q.key not in answers and q.key not in keys and reading.should_ask(q)
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
    reading = _reading(book, answers, on)
    answered = sum(1 for key in answers if key in reading.flow.questions)
    at_most_left = len(_could_still_ask(reading))
    return Progress(answered=answered, at_most_left=at_most_left)


_COUNT_WORDS: Final = {
    # verdict: (one route, several routes)
    Verdict.FITS: ("fits", "fit"),
    Verdict.MAY_FIT: ("may fit", "may fit"),
    Verdict.DOES_NOT_FIT: ("does not fit", "do not fit"),
}


@functools.lru_cache(maxsize=4096)
def _route_label(name: str, country: str, language: str | None) -> str:
    """ "EU Blue Card, Germany": looking up a country's name in the language of the page
    costs more than the rest of a panel's line, and there are few routes and languages."""
    return f"{name}, {wording.country_name(country)}"


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
        language = translation.get_language()
        return [
            PanelRoute(_route_label(r.route.name, r.route.country, language), r.verdict)
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
    now = _reading(book, answers, on)
    flow = now.flow
    routes = flow.considered(answers)
    results = tuple(flow.verdicts[i][now.standing(i).verdict] for i in routes)
    if before is None:
        return RoutePanel(results)
    earlier = _reading(book, before, on)
    # Only a route that reads an answer that changed can have another verdict.
    changed = flow.readers(now.changed_since(earlier))
    previous = tuple(
        flow.verdicts[i][earlier.standing(i).verdict] if i in changed else result
        for i, result in zip(routes, results, strict=True)
    )
    return RoutePanel(results, previous)


def walk(book: RuleBook, profile: Mapping[str, Any], on: dt.date) -> list[str]:
    """The keys an applicant with these answers is asked, in order, following the flow. A key
    missing from the profile is answered "I don't know"."""
    answers: dict[str, Any] = {}
    asked: list[str] = []
    while (question := next_question(book, answers, on)) is not None:
        asked.append(question.key)
        answers[question.key] = profile.get(question.key)
    return asked
