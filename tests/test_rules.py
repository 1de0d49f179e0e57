"""Reading the published rules from the database."""

from __future__ import annotations

import datetime as dt

import pytest

from eligibility import engine
from eligibility.models import Question, RequirementValue, Route
from eligibility.rules import load_rulebook
from tests.factories import (
    KeyFactFactory,
    NextStepFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RequirementValueFactory,
    RouteFactory,
    blue_card,
)

pytestmark = pytest.mark.django_db

CORE_KEYS = {
    "citizenship",
    "age",
    "education_level",
    "stem_field",
    "university_rank",
    "graduation_year",
    "graduation_month",
    "degree_country",
    "years_experience",
    "job_offer_country",
    "offered_salary",
    "english_level",
    "german_level",
    "chinese_level",
    "korean_level",
    "japanese_level",
    "current_country",
    "has_dependants",
    "proof_of_funds",
}


def test_the_core_question_keys_exist_after_migrating():
    assert CORE_KEYS <= set(Question.objects.values_list("key", flat=True))


def make_routes(count: int) -> None:
    for _ in range(count):
        route = RouteFactory()
        RequirementFactory.create_batch(3, route=route)
        KeyFactFactory(route=route)
        OpenQuestionFactory(route=route)
        NextStepFactory.create_batch(2, route=route)


@pytest.mark.parametrize("count", [1, 50])
def test_loading_every_published_route_takes_the_same_queries(count, django_assert_num_queries):
    make_routes(count)
    # Questions, routes, requirements, their values, key facts, open questions, next steps.
    with django_assert_num_queries(7):
        book = load_rulebook()
        engine.evaluate_routes(book, {"age": 30}, dt.date(2026, 6, 1))
    assert len(book.routes) == count


def test_draft_routes_are_never_in_the_published_rules():
    blue_card()
    RouteFactory(slug="draft-route", status=Route.Status.DRAFT)
    assert [r.slug for r in load_rulebook().routes] == ["de-blue-card"]


def test_the_rules_version_changes_when_an_adviser_edits_a_rule():
    route = blue_card()
    before = load_rulebook().version
    assert load_rulebook().version == before
    value = RequirementValue.objects.get(
        requirement__route=route, effective_from=dt.date(2026, 1, 1)
    )
    value.value = 51000
    value.save()
    assert load_rulebook().version != before


def test_the_snapshot_carries_sources_and_effective_dates():
    blue_card()
    (card,) = load_rulebook().routes
    threshold = next(r for r in card.requirements if r.question.key == "offered_salary")
    assert [(v.value, v.effective_from, v.effective_until) for v in threshold.values] == [
        (48300, dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        (50700, dt.date(2026, 1, 1), None),
    ]
    in_force = threshold.value_on(dt.date(2026, 6, 1))
    assert in_force is not None and in_force.value == 50700
    assert in_force.certainty is engine.Certainty.SETTLED
    assert in_force.source.title == "Example Gazette"
    assert threshold.value_on(dt.date(2025, 6, 1)).value == 48300
    assert card.key_fact(engine.FactTopic.FEES).text == "€75 visa, €100 permit"


def test_the_snapshot_carries_opening_dates_and_the_citizen_gate_comes_first():
    blue_card(opens_on=dt.date(2012, 8, 1), closes_on=dt.date(2030, 12, 31))
    (card,) = load_rulebook().routes
    assert (card.opens_on, card.closes_on) == (dt.date(2012, 8, 1), dt.date(2030, 12, 31))
    citizen = card.gates[0]
    assert citizen == card.citizen_gate
    assert citizen.question.key == "citizenship"
    assert citizen.operator is engine.Operator.NOT_IN
    assert citizen.value_on(dt.date(2026, 6, 1)).value == ("DE",)
    assert card.gates[1:] == card.requirements


def test_the_snapshot_carries_units_and_month_questions():
    questions = load_rulebook().questions_by_key
    assert questions["graduation_year"].month_key == "graduation_month"
    assert questions["offered_salary"].unit == questions["years_experience"].unit == "year"
    assert questions["citizenship"].kind is engine.Kind.COUNTRIES


def test_unclear_and_chance_values_keep_their_notes_in_date_order():
    route = RouteFactory()
    age = RequirementFactory(
        route=route, value=None, certainty="unclear", note="The age limit is unpublished."
    )
    RequirementValue.objects.filter(requirement=age).update(effective_until=dt.date(2025, 12, 31))
    RequirementValueFactory(
        requirement=age,
        value=45,
        certainty="chance",
        note="A quota decides.",
        effective_from=dt.date(2026, 1, 1),
    )
    (rules,) = load_rulebook().routes
    (gate,) = rules.requirements
    # In date order on every database: the value with no first day comes first.
    assert [(v.value, v.certainty, v.note) for v in gate.values] == [
        (None, engine.Certainty.UNCLEAR, "The age limit is unpublished."),
        (45, engine.Certainty.CHANCE, "A quota decides."),
    ]
