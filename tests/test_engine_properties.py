"""Properties of the three-valued logic that must hold for any rules and answers."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from eligibility import engine
from eligibility.engine import Certainty, Operator, Verdict, evaluate_route
from tests.builders import CEFR, ON, QUESTIONS, route, rule

LEVELS = [v for v, _ in CEFR]
ANSWERS = {
    "age": st.integers(16, 80),
    "salary": st.integers(0, 120_000).map(Decimal),
    "german": st.sampled_from(LEVELS),
    "funds": st.booleans(),
}


@st.composite
def requirements(draw: st.DrawFn) -> engine.RequirementRule:
    key = draw(st.sampled_from(sorted(ANSWERS)))
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
    return rule(
        key,
        operator,
        value,
        pathway=draw(st.sampled_from(["", "", "A", "B"])),
        certainty=draw(st.sampled_from([Certainty.SETTLED] * 4 + [Certainty.UNCLEAR])),
        points=draw(st.integers(0, 4)) if scoring else None,
        points_group=draw(st.sampled_from(["g1", "g2"])) if scoring else "",
    )


routes = st.builds(
    lambda reqs, needed: route(*reqs, points_needed=needed),
    st.lists(requirements(), min_size=1, max_size=8),
    st.one_of(st.none(), st.integers(0, 8)),
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
    outcomes = [
        (r, engine.requirement_outcome(r, answers, ON)) for r in card.requirements if r.in_force(ON)
    ]
    assert engine.verdict_of(card, outcomes) is evaluate_route(card, answers, ON).verdict
