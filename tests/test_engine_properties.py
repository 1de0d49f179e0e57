"""Properties of the three-valued logic that must hold for any rules and answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from eligibility import engine
from eligibility.engine import Certainty, Operator, Verdict, evaluate_route
from tests.builders import CEFR, CHANCE, ON, QUESTIONS, route, rule, value

LEVELS = [v for v, _ in CEFR]
ANSWERS = {
    "age": st.integers(16, 80),
    "salary": st.integers(0, 120_000).map(Decimal),
    "german": st.sampled_from(LEVELS),
    "funds": st.booleans(),
    "citizenship": st.sampled_from([("IN",), ("DE",), ("IN", "DE"), ("CN", "GB")]),
}
RANK = {Verdict.DOES_NOT_FIT: 0, Verdict.MAY_FIT: 1, Verdict.FITS: 2}
dates = st.dates(dt.date(2020, 1, 1), dt.date(2032, 12, 31))


@st.composite
def requirements(draw: st.DrawFn) -> engine.RequirementRule:
    key = draw(st.sampled_from(sorted(set(ANSWERS) - {"citizenship"})))
    question = QUESTIONS[key]
    if question.kind is engine.Kind.BOOLEAN:
        operator, value = draw(st.sampled_from([Operator.EQ, Operator.NE])), draw(st.booleans())
    elif question.kind is engine.Kind.ORDINAL:
        operator = draw(st.sampled_from(list(Operator)))
        value = draw(st.sampled_from(LEVELS))
        if operator in (Operator.IN, Operator.NOT_IN):
            value = tuple(draw(st.lists(st.sampled_from(LEVELS), min_size=1, max_size=3)))
    else:
        operator = draw(st.sampled_from([o for o in Operator if o not in engine.LIST_OPERATORS]))
        value = draw(ANSWERS[key])
    scoring = draw(st.booleans())
    # One to three dated values, some ending, some leaving gaps between them.
    starts = sorted(
        draw(st.lists(st.one_of(st.none(), dates), min_size=1, max_size=3)),
        key=lambda d: d or dt.date.min,
    )
    values = tuple(
        engine.DatedValue(
            value,
            value_source(),
            effective_from=start,
            effective_until=draw(
                st.one_of(st.none(), st.just(start + dt.timedelta(days=draw(st.integers(0, 900)))))
            )
            if start
            else None,
            certainty=draw(st.sampled_from([Certainty.SETTLED] * 4 + [Certainty.UNCLEAR, CHANCE])),
        )
        for start in starts
    )
    return rule(
        key,
        operator,
        values=values,
        pathway=draw(st.sampled_from(["", "", "A", "B"])),
        points=draw(st.integers(0, 4)) if scoring else None,
        points_group=draw(st.sampled_from(["g1", "g2"])) if scoring else "",
    )


def value_source() -> engine.Source:
    return value(None).source


routes = st.builds(
    lambda reqs, needed, opens: route(*reqs, points_needed=needed, opens_on=opens),
    st.lists(requirements(), min_size=1, max_size=8),
    st.one_of(st.none(), st.integers(0, 8)),
    st.one_of(st.none(), dates),
)
partial_answers = st.fixed_dictionaries({}, optional={k: s for k, s in ANSWERS.items()})


@settings(max_examples=300, deadline=None)
@given(routes, partial_answers, st.sampled_from(sorted(ANSWERS)), st.data())
def test_answering_one_more_question_never_changes_a_settled_verdict(card, answers, key, data):
    assume(key not in answers or answers[key] is None)
    before = evaluate_route(card, answers, ON).verdict
    more = {**answers, key: data.draw(ANSWERS[key])}
    after = evaluate_route(card, more, ON).verdict
    if before is not Verdict.MAY_FIT:
        assert after is before
    assert not (before is Verdict.DOES_NOT_FIT and after is Verdict.FITS)


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers)
def test_dont_know_is_never_better_or_worse_than_no_answer(card, answers):
    dont_know = {k: None for k in answers}
    assert evaluate_route(card, dont_know, ON).verdict is evaluate_route(card, {}, ON).verdict


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers)
def test_earned_points_never_exceed_what_is_possible(card, answers):
    result = evaluate_route(card, answers, ON)
    for pathway in result.pathways:
        if pathway.points:
            assert 0 <= pathway.points.earned <= pathway.points.possible


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers)
def test_a_route_with_an_unclear_rule_in_every_pathway_never_fits(card, answers):
    vague = rule("age", "answered", certainty=Certainty.UNCLEAR)
    assert evaluate_route(route(*card.requirements, vague), answers, ON).verdict is not Verdict.FITS


@settings(max_examples=300, deadline=None)
@given(routes, partial_answers)
def test_the_quick_verdict_agrees_with_the_full_evaluation(card, answers):
    outcomes = [(r, engine.requirement_outcome(r, answers, ON)) for r in card.gates]
    assert engine.verdict_of(card, outcomes, ON) is evaluate_route(card, answers, ON).verdict


@settings(max_examples=300, deadline=None)
@given(routes, partial_answers, dates)
def test_on_any_date_every_gate_gives_an_outcome(card, answers, on):
    result = evaluate_route(card, answers, on)
    assert [r.rule for r in result.requirements] == list(card.gates)
    assert all(r.outcome in engine.Outcome for r in result.requirements)
    for r in result.requirements:
        if r.value is None:  # no value covers the date: unknown, never met or absent
            assert (r.outcome, r.why) == (engine.Outcome.UNKNOWN, engine.Unknown.UNPUBLISHED)


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers, dates, st.integers(1, 3000))
def test_a_route_before_its_opening_date_never_fits(card, answers, opens, days_before):
    # The date is drawn before the opening rather than filtered (assume() discarded most
    # draws, and Hypothesis's health check then failed now and then).
    card = dataclasses.replace(card, opens_on=card.opens_on or opens)
    on = card.opens_on - dt.timedelta(days=days_before)
    assert evaluate_route(card, answers, on).verdict is Verdict.DOES_NOT_FIT


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers, dates)
def test_adding_a_citizenship_of_the_destination_never_makes_it_fit(card, answers, on):
    before = evaluate_route(card, answers, on).verdict
    held = tuple(answers.get("citizenship") or ())
    after = evaluate_route(card, {**answers, "citizenship": (*held, card.country)}, on)
    assert after.verdict is Verdict.DOES_NOT_FIT
    assert RANK[after.verdict] <= RANK[before]


@settings(max_examples=200, deadline=None)
@given(routes, partial_answers, dates, st.booleans())
def test_a_chance_gate_never_makes_a_route_fit(card, answers, on, funds):
    lottery = rule("funds", "eq", True, certainty=CHANCE, note="A lottery decides.")
    with_lottery = route(
        *card.requirements, lottery, points_needed=card.points_needed, opens_on=card.opens_on
    )
    answers = {**answers, "funds": funds}
    before = evaluate_route(card, answers, on).verdict
    after = evaluate_route(with_lottery, answers, on).verdict
    assert RANK[after] <= RANK[before]
    if funds:  # subject to the lottery
        assert after is not Verdict.FITS
