"""The shipped catalogue: all 13 routes, sourced, dated, and never more certain than the facts."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

from eligibility.catalogue import CATALOGUE_PATH, export_catalogue, import_catalogue
from eligibility.models import KeyFact, Question, Requirement, Route

pytestmark = pytest.mark.django_db

SLUGS = {
    "cn-k",
    "us-h1b",
    "us-o1a",
    "de-blue-card",
    "de-opportunity-card",
    "kr-e7",
    "kr-top-tier",
    "kr-d10",
    "nz-smc",
    "nz-green-list",
    "uk-hpi",
    "uk-skilled-worker",
    "jp-hsp",
}
TEXT = CATALOGUE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def loaded() -> None:
    call_command("import_routes", stdout=io.StringIO())


def test_all_thirteen_routes_are_published_after_loading(loaded):
    assert set(Route.objects.published().values_list("slug", flat=True)) == SLUGS


def test_the_catalogue_file_is_exactly_what_export_routes_writes(loaded):
    assert export_catalogue() == TEXT


def test_every_requirement_key_fact_and_open_question_cites_a_dated_source(loaded):
    for model in (Requirement, KeyFact, Route.open_questions.rel.related_model):
        assert not model.objects.filter(source_title="").exists()
        assert not model.objects.filter(source_as_of__isnull=True).exists()


def test_every_money_threshold_has_effective_dates(loaded):
    thresholds = Requirement.objects.filter(
        question__kind="money", certainty="settled", operator__in=["gte", "gt", "lte", "lt"]
    )
    assert thresholds.exists()
    undated = thresholds.filter(effective_from__isnull=True)
    assert list(undated.values_list("route__slug", "value")) == []


def test_every_route_has_all_key_fact_topics(loaded):
    topics = {t.value for t in KeyFact.Topic}
    for route in Route.objects.prefetch_related("key_facts"):
        assert {f.topic for f in route.key_facts.all()} == topics, route.slug


def test_the_k_visa_never_fits_because_its_age_rule_is_unpublished(loaded):
    k_visa = Route.objects.get(slug="cn-k")
    assert k_visa.requirements.filter(certainty="unclear", question__key="age").exists()


def test_extra_questions_are_asked_only_when_they_matter(loaded):
    core = yaml.safe_load(TEXT)["questions"]
    extras = [q for q in core if q["order"] >= 300]
    assert extras
    assert all(q["ask_if"] for q in extras), [q["key"] for q in extras if not q["ask_if"]]


def test_loading_twice_creates_nothing_new(loaded):
    before = (Route.objects.count(), Requirement.objects.count(), Question.objects.count())
    report = import_catalogue(TEXT)
    assert report.routes_created == []
    assert sorted(report.routes_skipped) == sorted(SLUGS)
    assert (Route.objects.count(), Requirement.objects.count(), Question.objects.count()) == before
