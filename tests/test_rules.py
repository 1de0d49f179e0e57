"""Reading the published rules from the database."""

from __future__ import annotations

import datetime as dt

import pytest

from eligibility import engine
from eligibility.models import Question, Route
from eligibility.rules import load_rulebook
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    blue_card,
)

pytestmark = pytest.mark.django_db

CORE_KEYS = {
    "age",
    "education_level",
    "stem_field",
    "university_rank",
    "graduation_year",
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


@pytest.mark.parametrize("count", [1, 50])
def test_loading_every_published_route_takes_the_same_queries(count, django_assert_num_queries):
    make_routes(count)
    with django_assert_num_queries(5):
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
    requirement = route.requirements.get(value=50700)
    requirement.value = 51000
    requirement.save()
    assert load_rulebook().version != before


def test_the_snapshot_carries_sources_and_effective_dates():
    blue_card()
    (card,) = load_rulebook().routes
    threshold = next(r for r in card.requirements if r.value == 50700)
    assert threshold.effective_from == dt.date(2026, 1, 1)
    assert threshold.source.title == "Fact sheet"
    assert card.key_fact(engine.FactTopic.FEES).text == "€75 visa, €100 permit"
