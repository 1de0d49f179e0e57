"""The questionnaire's quick path (each route compiled once per rule book, results kept per
answers read) says exactly what the plain engine says: the same verdicts and deciding
questions per route, the same next question, progress, panel and open answers, on the real
catalogue and on generated rule books. And what it keeps is never served for other rules or
other answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import engine, questionnaire
from eligibility.engine import (
    Certainty,
    Clause,
    Kind,
    Operator,
    Outcome,
    QuestionRule,
    RequirementRule,
    RouteRules,
    RuleBook,
    Verdict,
    YearsBefore,
)
from eligibility.models import RequirementValue
from eligibility.questionnaire import ALWAYS_ASKED, DESTINATIONS, FIRST, OFFER_COUNTRY
from eligibility.rules import current_rulebook, load_rulebook
from tests.builders import CEFR, QUESTIONS, SOURCE, route
from tests.factories import blue_card

ON = dt.date(2026, 12, 4)


# --- The plain reading: the questionnaire as first written, slow and simple -------------------


def plain_considered(book: RuleBook, answers: Mapping[str, Any]) -> RuleBook:
    picked = answers.get(DESTINATIONS)
    chosen = frozenset(picked) & {r.country for r in book.routes} if picked else None
    if not chosen:
        return book
    return dataclasses.replace(book, routes=tuple(r for r in book.routes if r.country in chosen))


def plain_flow_key(
    book: RuleBook, answers: Mapping[str, Any]
) -> Callable[[QuestionRule], tuple[int, int, int, str]]:
    from django_countries import countries

    sections = {}
    for code in {r.country for r in book.routes}:
        name = str(countries.name(code))
        for section in {q.section for q in book.questions if q.section}:
            if section == name or name.startswith(f"{section} "):
                sections[section] = code
    offer = answers.get(OFFER_COUNTRY)

    def key(question: QuestionRule) -> tuple[int, int, int, str]:
        country = sections.get(question.section)
        place = 0 if country is None else 1 if country == offer else 2
        first = FIRST.index(question.key) if question.key in FIRST else len(FIRST)
        return place, first, question.order, question.key

    return key


def plain_conditions(keys: set[str], book: RuleBook, follow: Callable[[str], bool]) -> None:
    pending = list(keys)
    while pending:
        question = book.questions_by_key.get(pending.pop())
        for clause in question.ask_if if question else ():
            if clause.question not in keys and follow(clause.question):
                keys.add(clause.question)
                pending.append(clause.question)


def plain_verdict(r: RouteRules, answers: Mapping[str, Any], on: dt.date) -> Verdict:
    checks = engine.gate_outcomes(r, answers, on)
    return engine.verdict_of(r, [(g, c.outcome) for g, c in checks], on)


def plain_open_asks(r: RouteRules, answers: Mapping[str, Any], on: dt.date) -> set[str]:
    if plain_verdict(r, answers, on) is not Verdict.MAY_FIT:
        return set()
    checks = engine.gate_outcomes(r, answers, on)
    return {k for g, c in checks if c.outcome is Outcome.UNKNOWN for k in engine.gate_keys(g)}


def plain_could_still_ask(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> list[QuestionRule]:
    needed = {key for key in ALWAYS_ASKED if key not in answers}
    for r in plain_considered(book, answers).routes:
        needed |= plain_open_asks(r, answers, on)
    plain_conditions(needed, book, lambda key: True)

    def may_be_asked(q: QuestionRule) -> bool:
        if any(answers.get(c.question, "") is None for c in q.ask_if):
            return False
        condition = engine.condition_outcome(q.ask_if, book.questions_by_key, answers, on)
        return condition is not Outcome.NOT_MET

    return [q for q in book.questions if q.key in needed - answers.keys() and may_be_asked(q)]


def plain_questions_to_ask(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> list[QuestionRule]:
    matter = engine.questions_that_matter(plain_considered(book, answers), answers, on)
    matter.update(k for k in ALWAYS_ASKED if k in book.questions_by_key and k not in answers)
    key = plain_flow_key(book, answers)

    def asked_now(q: QuestionRule) -> bool:
        return engine.should_ask(q, book, answers, on)

    asked = sorted(
        (q for q in book.questions if q.key in matter - answers.keys() and asked_now(q)), key=key
    )
    if asked and key(asked[0])[0] > 0:
        general = [
            q
            for q in plain_could_still_ask(book, answers, on)
            if key(q)[0] == 0 and q.key not in matter and asked_now(q)
        ]
        asked = sorted([*general, *asked], key=key)
    return asked


def plain_panel(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date, before: Mapping[str, Any] | None
) -> tuple[list[tuple[str, Verdict]], list[tuple[str, Verdict]] | None]:
    routes = plain_considered(book, answers)

    def verdicts(given: Mapping[str, Any]) -> list[tuple[str, Verdict]]:
        return [(v.route.slug, v.verdict) for v in engine.verdicts(routes, given, on)]

    return verdicts(answers), None if before is None else verdicts(before)


def plain_open_answers(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> tuple[list[str], list[str]]:
    keys: set[str] = set()
    for r in book.routes:
        keys.update(engine.deciding_questions(r, answers, on))
    plain_conditions(keys, book, lambda key: answers.get(key) is None)
    skipped = [
        q.key
        for q in book.questions
        if q.key not in answers.keys() | keys and engine.should_ask(q, book, answers, on)
    ]
    return [q.key for q in book.questions if q.key in keys], skipped


def assert_same_as_plain(
    book: RuleBook,
    answers: Mapping[str, Any],
    on: dt.date = ON,
    before: Mapping[str, Any] | None = None,
) -> None:
    """Every reading of the questionnaire, quick and plain, agrees."""
    keys = [q.key for q in questionnaire.questions_to_ask(book, answers, on)]
    assert keys == [q.key for q in plain_questions_to_ask(book, answers, on)]
    following = questionnaire.next_question(book, answers, on)
    assert (following and following.key) == (keys[0] if keys else None)
    progress = questionnaire.progress(book, answers, on)
    assert progress.at_most_left == len(plain_could_still_ask(book, answers, on))
    assert progress.answered == sum(1 for q in book.questions if q.key in answers)
    panel = questionnaire.route_panel(book, answers, on, before)
    now, earlier = plain_panel(book, answers, on, before)
    assert [(v.route.slug, v.verdict) for v in panel.results] == now
    assert panel.previous is None or [(v.route.slug, v.verdict) for v in panel.previous] == earlier
    open_answers = questionnaire.open_answers(book, answers, on)
    assert ([q.key for q in open_answers.deciding], [q.key for q in open_answers.skipped]) == (
        plain_open_answers(book, answers, on)
    )


# --- Generated routes: gates of every kind -----------------------------------------------------

LEVELS = [v for v, _ in CEFR]
DEGREES = [v for v, _ in QUESTIONS["degree"].choices]
COUNTRIES = ["DE", "IN", "GB", "CN"]
dates = st.dates(dt.date(2026, 6, 1), dt.date(2027, 6, 1))

# Answers of the right type, "I don't know", and now and then a wrong type: the engine must
# read 1, True and Decimal(1) each in its own way, and so must anything kept for them.
ANSWERS: dict[str, st.SearchStrategy[Any]] = {
    "age": st.one_of(st.integers(16, 70), st.just(True)),
    "salary": st.sampled_from([Decimal(0), Decimal(40000), Decimal("58000.5"), Decimal(90000)]),
    "offer": st.sampled_from(["none", *COUNTRIES]),
    "degree": st.sampled_from(DEGREES),
    "german": st.sampled_from(LEVELS),
    "funds": st.one_of(st.booleans(), st.just(1)),
    "graduation": st.integers(2021, 2026),
    "graduation_month": st.sampled_from([str(m) for m in range(1, 13)]),
    "citizenship": st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=2).map(tuple),
    "employer_exempt": st.booleans(),
    "rank": st.sampled_from(["top100", "top200", "other"]),
}
answers = st.fixed_dictionaries(
    {}, optional={key: st.one_of(st.none(), values) for key, values in ANSWERS.items()}
)


# Stored values of the wrong kind (SQL, an old row): the engine reads none of them, on either
# path, whatever the question and the operator.
UNREADABLE_VALUES = st.sampled_from(
    [
        "abc",
        None,
        5,
        True,
        ("x", 7),
        [["DE"]],
        {"a": 1},
        Decimal("NaN"),
        Decimal("-Infinity"),
        YearsBefore(2),
        (),
    ]
)


@st.composite
def comparisons(draw: st.DrawFn, key: str) -> tuple[Operator, Any]:
    """An operator and a value that make sense for the question; now and then, a value of
    the wrong kind."""
    if draw(st.integers(0, 14)) == 0:
        return draw(st.sampled_from(sorted(Operator))), draw(UNREADABLE_VALUES)
    kind = QUESTIONS[key].kind
    if key == "graduation":
        return draw(st.sampled_from([Operator.GTE, Operator.LT])), YearsBefore(
            draw(st.integers(1, 4))
        )
    if draw(st.integers(0, 9)) == 0:
        return Operator.ANSWERED, None
    if kind is Kind.BOOLEAN:
        return draw(st.sampled_from([Operator.EQ, Operator.NE])), draw(st.booleans())
    if kind in (Kind.COUNTRY, Kind.COUNTRIES):
        codes = tuple(draw(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=2)))
        if kind is Kind.COUNTRY and draw(st.booleans()):
            return draw(st.sampled_from([Operator.EQ, Operator.NE])), codes[0]
        return draw(st.sampled_from([Operator.IN, Operator.NOT_IN])), codes
    if kind in (Kind.ORDINAL, Kind.CHOICE):
        choices = [v for v, _ in QUESTIONS[key].choices]
        if kind is Kind.CHOICE or draw(st.booleans()):
            return draw(st.sampled_from([Operator.IN, Operator.NOT_IN])), tuple(
                draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
            )
        return draw(st.sampled_from(sorted(engine.ORDERING_OPERATORS))), draw(
            st.sampled_from(choices)
        )
    value = draw(ANSWERS[key].filter(lambda v: not isinstance(v, bool)))
    return draw(st.sampled_from([Operator.EQ, *sorted(engine.ORDERING_OPERATORS)])), value


@st.composite
def conditions(draw: st.DrawFn) -> RequirementRule:
    key = draw(st.sampled_from(["offer", "funds", "degree", "citizenship", "graduation"]))
    operator, value = draw(comparisons(key))
    return engine.clause_gate(Clause(key, operator, value), QUESTIONS[key])


@st.composite
def gates(draw: st.DrawFn) -> RequirementRule:
    key = draw(st.sampled_from(sorted(set(ANSWERS) - {"graduation_month"})))
    operator, value = draw(comparisons(key))
    certainty = draw(st.sampled_from([Certainty.SETTLED] * 3 + list(Certainty)))
    start = draw(st.one_of(st.none(), dates))
    end = draw(st.one_of(st.none(), dates.filter(lambda d: start is None or d >= start)))
    values = (engine.DatedValue(value, SOURCE, start, end, certainty),)
    if draw(st.booleans()):  # a second value, from the day after the first ends
        later = (end or dt.date(2026, 9, 1)) + dt.timedelta(days=1)
        values += (engine.DatedValue(value, SOURCE, later, None, Certainty.SETTLED),)
    scoring = draw(st.integers(0, 3)) == 0
    return RequirementRule(
        id=draw(st.integers(1, 10**6)),
        question=QUESTIONS[key],
        operator=operator,
        values=values,
        pathway=draw(st.sampled_from(["", "", "A", "B", "C"])),
        points=draw(st.integers(-1, 4)) if scoring else None,
        points_group=draw(st.sampled_from(["g1", "g2"])) if scoring else "",
        applies_if=tuple(draw(st.lists(conditions(), max_size=2))),
    )


routes = st.builds(
    lambda requirements, country, needed, partial, opens, closes: route(
        *requirements,
        slug=f"r-{country}-{len(requirements)}",
        country=country,
        points_needed=needed,
        points_table_partial=partial,
        opens_on=opens,
        closes_on=closes,
    ),
    st.lists(gates(), min_size=1, max_size=9),
    st.sampled_from(COUNTRIES),
    st.one_of(st.none(), st.integers(0, 6)),
    st.booleans(),
    st.one_of(st.none(), dates),
    st.one_of(st.none(), dates),
)


def quick(r: RouteRules, given: Mapping[str, Any], on: dt.date) -> engine.Standing:
    return engine.standing(engine.route_on(engine.compile_route(r), on), given)


@settings(max_examples=300, deadline=None)
@given(routes, answers, dates)
def test_a_compiled_route_gives_the_verdict_of_its_gates(r, given, on):
    assert quick(r, given, on).verdict is plain_verdict(r, given, on)


@settings(max_examples=500, deadline=None)
@given(routes, answers, dates)
def test_a_compiled_route_finds_the_same_deciding_questions(r, given, on):
    compiled = engine.compile_route(r)
    now = quick(r, given, on)
    decided = engine.deciding(engine.route_on(compiled, on), now)
    assert list(decided) == engine.deciding_questions(r, given, on)
    assert engine.open_asks(compiled, now) == plain_open_asks(r, given, on)


@settings(max_examples=200, deadline=None)
@given(routes, answers, dates)
def test_a_compiled_route_reads_only_the_answers_it_says_it_reads(r, given, on):
    reads = engine.compile_route(r).reads
    only_those = {k: v for k, v in given.items() if k in reads}
    assert quick(r, only_those, on) == quick(r, given, on)


@settings(max_examples=300, deadline=None)
@given(routes, answers, dates, st.data())
def test_a_value_that_cannot_be_read_never_makes_a_verdict_more_certain(r, given, on, data):
    """Absence never passes: where one gate's values cannot be read, the route fits, or does
    not, only if it did so whatever that gate said; otherwise it may fit."""
    index = data.draw(st.integers(0, len(r.requirements) - 1))
    gate = r.requirements[index]
    given = {**given, gate.question.key: data.draw(ANSWERS[gate.question.key])}
    value = data.draw(UNREADABLE_VALUES.filter(lambda v: not isinstance(v, YearsBefore)))
    unreadable = tuple(dataclasses.replace(v, value=value) for v in gate.values)
    broken = dataclasses.replace(
        r,
        requirements=tuple(
            dataclasses.replace(g, values=unreadable) if i == index else g
            for i, g in enumerate(r.requirements)
        ),
    )
    before = plain_verdict(r, given, on)
    assert plain_verdict(broken, given, on) in (before, Verdict.MAY_FIT)
    assert quick(broken, given, on).verdict is plain_verdict(broken, given, on)


def gate(key: str, operator: Operator, value: Any, **fields: Any) -> RequirementRule:
    dated = {k: fields.pop(k) for k in ("certainty",) if k in fields}
    values = (engine.DatedValue(value, SOURCE, **dated),)
    return RequirementRule(1, QUESTIONS[key], operator, values, **fields)


GRADUATED_LAST_2_YEARS = gate("graduation", Operator.GTE, YearsBefore(2))
LOTTERY = gate("funds", Operator.EQ, True, certainty=Certainty.CHANCE)
UNCLEAR_AGE = gate("age", Operator.LTE, 45, certainty=Certainty.UNCLEAR)
ONLY_WITH_AN_OFFER = engine.clause_gate(Clause("offer", Operator.NE, "none"), QUESTIONS["offer"])
TRICKY = {
    "a lottery beside an unclear rule": route(LOTTERY, UNCLEAR_AGE),
    "a year whose month decides": route(GRADUATED_LAST_2_YEARS),
    "a salary only with an offer": route(
        gate("salary", Operator.GTE, Decimal(50000), applies_if=(ONLY_WITH_AN_OFFER,))
    ),
    "points from a partial table": route(
        gate("age", Operator.LTE, 30, points=2, points_group="age"),
        gate("degree", Operator.GTE, "master", points=3, points_group="degree"),
        LOTTERY,
        points_needed=4,
        points_table_partial=True,
    ),
    "two pathways that need two answers each": route(
        gate("degree", Operator.GTE, "bachelor", pathway="degree"),
        gate("offer", Operator.EQ, "DE", pathway="degree"),
        gate("german", Operator.GTE, "B1", pathway="language"),
        gate("funds", Operator.EQ, True, pathway="language"),
    ),
    "closed": route(gate("age", Operator.LTE, 45), closes_on=ON - dt.timedelta(days=1)),
}
TRICKY_ANSWERS = [
    {},
    {"citizenship": ("IN",)},
    {"citizenship": ("DE",)},
    {"citizenship": ("IN",), "funds": None, "age": 30},
    {"citizenship": ("IN",), "graduation": ON.year - 2},
    {"citizenship": ("IN",), "graduation": ON.year - 2, "graduation_month": "1"},
    {"citizenship": ("IN",), "graduation": ON.year - 2, "graduation_month": "12"},
    {"citizenship": ("IN",), "graduation": ON.year - 2, "graduation_month": None},
    {"citizenship": ("IN",), "offer": "none", "salary": Decimal(1)},
    {"citizenship": ("IN",), "offer": "DE", "salary": Decimal(1)},
    {"citizenship": ("IN",), "salary": Decimal(60000)},
    {"citizenship": ("IN",), "age": 29, "degree": "bachelor"},
    {"citizenship": ("IN",), "degree": "master", "german": "A1"},
]


@pytest.mark.parametrize("given", TRICKY_ANSWERS)
@pytest.mark.parametrize("name", TRICKY)
def test_tricky_routes_read_as_the_plain_engine_reads_them(name, given):
    r = TRICKY[name]
    compiled = engine.route_on(engine.compile_route(r), ON)
    now = engine.standing(compiled, given)
    assert now.verdict is plain_verdict(r, given, ON)
    assert list(engine.deciding(compiled, now)) == engine.deciding_questions(r, given, ON)
    assert engine.open_asks(compiled.route, now) == plain_open_asks(r, given, ON)
    reads = compiled.route.reads
    assert engine.standing(compiled, {k: v for k, v in given.items() if k in reads}) == now


# --- Generated rule books: the whole questionnaire -------------------------------------------


def book_of(*rs: RouteRules) -> RuleBook:
    """The builders' questions with an "ask only if" or two and a country's own section."""
    q = QUESTIONS
    questions = (
        dataclasses.replace(q["citizenship"], order=1),
        QuestionRule("current_country", "Where do you live?", Kind.COUNTRY, order=2),
        QuestionRule(
            DESTINATIONS, "Where?", Kind.COUNTRIES, choices=tuple((c, c) for c in COUNTRIES)
        ),
        dataclasses.replace(q["age"], order=3),
        dataclasses.replace(q["offer"], order=4),
        dataclasses.replace(q["degree"], order=5),
        dataclasses.replace(
            q["salary"], order=6, ask_if=(Clause("offer", Operator.NE, "none"),), section="Work"
        ),
        dataclasses.replace(
            q["graduation"], order=7, ask_if=(Clause("degree", Operator.GTE, "bachelor"),)
        ),
        dataclasses.replace(q["graduation_month"], order=8),
        dataclasses.replace(q["funds"], order=9, section="India"),
        dataclasses.replace(q["german"], order=10, section="Germany"),
        dataclasses.replace(
            q["employer_exempt"],
            order=11,
            section="United Kingdom",
            ask_if=(Clause("offer", Operator.EQ, "GB"), Clause("funds", Operator.EQ, True)),
        ),
        dataclasses.replace(
            q["rank"], order=12, ask_if=(Clause("employer_exempt", Operator.EQ, True),)
        ),
    )
    return RuleBook(questions=questions, routes=rs, version="generated")


book_answers = st.fixed_dictionaries(
    {},
    optional={
        **{key: st.one_of(st.none(), values) for key, values in ANSWERS.items()},
        DESTINATIONS: st.one_of(
            st.none(), st.lists(st.sampled_from(COUNTRIES), max_size=2).map(tuple)
        ),
        "current_country": st.sampled_from(COUNTRIES),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(routes, min_size=1, max_size=4), book_answers, dates, st.data())
def test_on_generated_books_the_questionnaire_reads_as_the_plain_one(rs, given, on, data):
    book = book_of(*rs)
    changed = data.draw(st.sampled_from(sorted(given))) if given else None
    before = {k: v for k, v in given.items() if k != changed}
    assert_same_as_plain(book, given, on, before)


# --- The real catalogue -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker) -> RuleBook:
    """The shipped catalogue's rules, imported and rolled back: the tests need only the book."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("import_routes", stdout=io.StringIO())
        book = load_rulebook()
        transaction.set_rollback(True)
    return book


def catalogue_values(question: QuestionRule) -> st.SearchStrategy[Any]:
    kind = question.kind
    choices = [v for v, _ in question.choices]
    if kind is Kind.BOOLEAN:
        values: st.SearchStrategy[Any] = st.booleans()
    elif kind in (Kind.CHOICE, Kind.ORDINAL):
        values = st.sampled_from(choices)
    elif kind is Kind.INTEGER:
        low = int(question.min_value or 0)
        values = st.integers(low, min(int(question.max_value or 60), max(low, ON.year)))
    elif kind in (Kind.MONEY, Kind.DECIMAL):
        values = st.sampled_from([Decimal(v) for v in ("5", "30", "50000", "90000", "6E7")])
    elif kind is Kind.COUNTRY:
        values = st.sampled_from([*choices, "IN", "CN", "DE", "KR", "NZ", "US", "GB", "JP"])
    elif choices:
        values = st.lists(st.sampled_from(choices), min_size=1, max_size=3).map(tuple)
    else:
        values = st.sampled_from([("IN",), ("CN",), ("DE",), ("US", "IN"), ("KR",)])
    return st.one_of(st.none(), values)


def test_on_the_catalogue_every_step_of_a_walk_reads_as_the_plain_questionnaire(catalogue):
    profiles = st.fixed_dictionaries({q.key: catalogue_values(q) for q in catalogue.questions})

    @settings(max_examples=12, deadline=None, derandomize=True)
    @given(profiles)
    def check(profile: dict[str, Any]) -> None:
        given: dict[str, Any] = {}
        while (following := questionnaire.next_question(catalogue, given, ON)) is not None:
            before = dict(given)
            given[following.key] = profile[following.key]
            assert_same_as_plain(catalogue, given, ON, before)

    check()


def test_on_the_catalogue_any_answers_read_as_the_plain_questionnaire(catalogue):
    profiles = st.fixed_dictionaries(
        {}, optional={q.key: catalogue_values(q) for q in catalogue.questions}
    )

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(profiles)
    def check(given: dict[str, Any]) -> None:
        assert_same_as_plain(catalogue, given, ON)

    check()


# --- What is kept is never served for other rules or other answers -----------------------------


def two_books() -> tuple[RuleBook, RuleBook]:
    """Two books with the same version and the same routes but for one value: at least 30,
    or at least 40."""
    older = engine.RuleBook(
        questions=(QUESTIONS["age"],),
        routes=(route(engine_rule("age", Operator.GTE, 30), slug="r"),),
        version="same",
    )
    newer = dataclasses.replace(
        older, routes=(route(engine_rule("age", Operator.GTE, 40), slug="r"),)
    )
    return older, newer


def engine_rule(key: str, operator: Operator, value: Any) -> RequirementRule:
    return RequirementRule(1, QUESTIONS[key], operator, (engine.DatedValue(value, SOURCE),))


def panel_verdicts(book: RuleBook, given: Mapping[str, Any]) -> list[Verdict]:
    given = {"citizenship": ("IN",), **given}
    return [r.verdict for r in questionnaire.route_panel(book, given, ON).results]


def test_a_book_with_the_same_version_but_other_rules_gets_its_own_verdicts():
    older, newer = two_books()
    assert panel_verdicts(older, {"age": 35}) == [Verdict.FITS]
    assert panel_verdicts(newer, {"age": 35}) == [Verdict.DOES_NOT_FIT]
    assert panel_verdicts(older, {"age": 35}) == [Verdict.FITS]


def test_answers_python_holds_equal_are_each_read_as_the_engine_reads_them():
    book, _ = two_books()
    assert panel_verdicts(book, {"age": 1}) == [Verdict.DOES_NOT_FIT]
    # True == 1 to Python, but a yes cannot be compared with 30: unknown, as the engine says.
    assert panel_verdicts(book, {"age": True}) == [plain_verdict(book.routes[0], {"age": True}, ON)]
    assert panel_verdicts(book, {"age": True}) == [Verdict.MAY_FIT]
    assert panel_verdicts(book, {"age": Decimal(35)}) == [Verdict.FITS]


def test_the_same_answers_on_another_day_are_read_on_that_day():
    raised = (
        engine.DatedValue(30, SOURCE, effective_until=ON - dt.timedelta(days=1)),
        engine.DatedValue(40, SOURCE, effective_from=ON),
    )
    rule = RequirementRule(1, QUESTIONS["age"], Operator.GTE, raised)
    book = RuleBook(questions=(QUESTIONS["age"],), routes=(route(rule),), version="dated")
    given = {"citizenship": ("IN",), "age": 35}
    panel = questionnaire.route_panel
    assert [r.verdict for r in panel(book, given, ON - dt.timedelta(days=1)).results] == [
        Verdict.FITS
    ]
    assert [r.verdict for r in panel(book, given, ON).results] == [Verdict.DOES_NOT_FIT]


def test_answers_changed_after_a_step_are_read_afresh():
    book, _ = two_books()
    given: dict[str, Any] = {"citizenship": ("IN",), "age": 35}
    assert panel_verdicts(book, given) == [Verdict.FITS]
    given["age"] = 20
    assert panel_verdicts(book, given) == [Verdict.DOES_NOT_FIT]
    del given["age"]
    assert panel_verdicts(book, given) == [Verdict.MAY_FIT]


def test_answers_that_cannot_be_kept_are_still_read():
    book, _ = two_books()
    assert panel_verdicts(book, {"age": 35, "other": {"a": "dict"}}) == [Verdict.FITS]


def test_forgetting_what_is_kept_changes_no_result(catalogue):
    given = {"citizenship": ("IN",), "education_level": "master", "job_offer_country": "DE"}
    first = questionnaire.route_panel(catalogue, given, ON)
    questionnaire.forget_cached_answers()
    assert questionnaire.route_panel(catalogue, given, ON) == first


def test_a_memo_keeps_at_most_its_size_and_drops_the_oldest():
    memo: questionnaire._Memo[int, int] = questionnaire._Memo(3)
    for n in range(5):
        assert memo.get(n, lambda n=n: n * n) == n * n
    assert memo.get(0, lambda: -1) == -1  # dropped, so worked out again
    assert memo.get(4, lambda: -1) == 16  # kept


@pytest.mark.django_db
def test_a_rule_changed_by_an_adviser_changes_the_panel_at_once():
    blue_card()
    given = {
        "citizenship": ("IN",),
        "education_level": "master",
        "job_offer_country": "DE",
        "offered_salary": Decimal(50000),
    }
    assert panel_verdicts(current_rulebook(), given) == [Verdict.DOES_NOT_FIT]  # under 50,700
    threshold = RequirementValue.objects.get(
        requirement__question__key="offered_salary", effective_from=dt.date(2026, 1, 1)
    )
    threshold.value = 45000
    threshold.save()
    assert panel_verdicts(current_rulebook(), given) == [Verdict.FITS]


@pytest.mark.django_db
def test_the_same_rules_loaded_again_keep_what_was_worked_out_for_them(monkeypatch):
    from eligibility import rules

    blue_card()
    first = current_rulebook()
    monkeypatch.setattr(rules, "RULEBOOK_SECONDS", 0)  # this process's copy is too old
    assert current_rulebook() is first  # the same version: the same object, and its Flow
    threshold = RequirementValue.objects.get(
        requirement__question__key="offered_salary", effective_from=dt.date(2026, 1, 1)
    )
    threshold.value = 45000
    threshold.save()
    changed = current_rulebook()
    assert changed is not first and changed.version != first.version
