"""The shipped catalogue: all 13 routes, sourced, dated, and never more certain than the facts."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest

from eligibility import engine, wording
from eligibility.catalogue import CATALOGUE_PATH, export_catalogue, import_catalogue, parse
from eligibility.checks import catalogue_problems
from eligibility.models import KeyFact, OpenQuestion, Question, Requirement, RequirementValue, Route
from eligibility.rules import load_rulebook

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
# The day the catalogue was last verified, and how far ahead its rules must say something.
VERIFIED_ON = dt.date(2026, 11, 28)
HORIZON = dt.date(2028, 11, 28)


@pytest.fixture
def loaded(imported_catalogue) -> None:
    """The shipped catalogue as `import_routes` loads it."""


def test_all_thirteen_routes_are_published_after_loading(loaded):
    assert set(Route.objects.published().values_list("slug", flat=True)) == SLUGS


def test_the_catalogue_file_is_exactly_what_export_routes_writes(loaded):
    assert export_catalogue() == TEXT


def test_every_requirement_has_values_and_every_value_fact_and_question_cites_a_dated_source(
    loaded,
):
    valueless = Requirement.objects.filter(values__isnull=True)
    assert list(valueless.values_list("route__slug", "question__key")) == []
    for model in (RequirementValue, KeyFact, OpenQuestion):
        assert model.objects.exists()
        assert not model.objects.filter(source_title="").exists()
        assert not model.objects.filter(source_as_of__isnull=True).exists()


def test_no_source_is_dated_after_its_route_was_last_verified(loaded):
    late = [
        (v.requirement.route.slug, v.source_title, v.source_as_of)
        for v in RequirementValue.objects.select_related("requirement__route")
        if v.source_as_of > v.requirement.route.last_verified_on
    ]
    for model in (KeyFact, OpenQuestion):
        late += [
            (row.route.slug, row.source_title, row.source_as_of)
            for row in model.objects.select_related("route")
            if row.source_as_of > row.route.last_verified_on
        ]
    assert late == []


def test_every_unclear_or_chance_value_says_what_is_open(loaded):
    silent = RequirementValue.objects.exclude(certainty="settled").filter(note="")
    assert list(silent.values_list("requirement__route__slug", "requirement__question__key")) == []


def test_every_settled_money_threshold_that_changed_says_from_when_it_applies(loaded):
    thresholds = RequirementValue.objects.filter(
        requirement__question__kind="money",
        requirement__operator__in=["gte", "gt", "lte", "lt"],
        certainty="settled",
    )
    assert thresholds.exists()
    # An undated amount is one our sources never saw change (the HPI funds, the Japanese
    # salary bands): it must then be its gate's only value, so a later figure cannot follow
    # it without dating both.
    undated = [
        (v.requirement.route.slug, v.value)
        for v in thresholds.filter(effective_from__isnull=True).select_related("requirement__route")
        if v.requirement.values.count() > 1
    ]
    assert undated == []


def test_every_money_gate_has_a_value_in_force_from_its_routes_opening_to_two_years_ahead(
    loaded,
):
    """From the route's opening (or, where our records do not say, its earliest dated value)
    to two years after the catalogue was verified, each money gate has a value on every day:
    an unclear value counts (the rule is then unknown, and says so), a gap does not (the gate
    would be unknown with nothing to say why). Gates whose values are all unclear are left
    out: there is no threshold to date."""
    uncovered = []
    checked = 0
    for route in load_rulebook().routes:
        starts = [v.effective_from for g in route.requirements for v in g.values]
        start = route.opens_on or min((d for d in starts if d is not None), default=None)
        end = min(HORIZON, route.closes_on or dt.date.max)
        for gate in route.requirements:
            if gate.question.kind is not engine.Kind.MONEY:
                continue
            if all(v.certainty is engine.Certainty.UNCLEAR for v in gate.values):
                continue
            checked += 1
            if start is None:  # no value of the route is dated: each runs from the start
                assert all(v.effective_until is None for v in gate.values), route.slug
                continue
            for first, last in engine.uncovered_dates(gate, start, end):
                uncovered.append((route.slug, gate.pathway, gate.question.key, first, last))
    assert checked
    assert uncovered == []


def test_every_route_has_all_key_fact_topics(loaded):
    topics = {t.value for t in KeyFact.Topic}
    for route in Route.objects.prefetch_related("key_facts"):
        assert {f.topic for f in route.key_facts.all()} == topics, route.slug


def test_the_k_visa_never_fits_because_its_age_rule_is_unpublished(loaded):
    k_visa = Route.objects.get(slug="cn-k")
    assert k_visa.requirements.filter(values__certainty="unclear", question__key="age").exists()
    (route,) = load_rulebook(slugs=["cn-k"]).routes
    result = engine.evaluate_route(route, K_VISA_APPLICANT, VERIFIED_ON)
    assert result.verdict is engine.Verdict.MAY_FIT


# A strong K visa applicant: an Indian STEM master's graduate of a top-100 university.
K_VISA_APPLICANT = {
    "citizenship": ("IN",),
    "age": 28,
    "education_level": "master",
    "stem_field": True,
    "university_rank": "top100",
    "current_country": "IN",
}


@pytest.mark.parametrize("citizenship", [("CN",), ("CN", "IN"), ("IN", "CN")])
def test_the_k_visa_does_not_fit_a_chinese_citizen(loaded, citizenship):
    (route,) = load_rulebook(slugs=["cn-k"]).routes
    result = engine.evaluate_route(
        route, {**K_VISA_APPLICANT, "citizenship": citizenship}, VERIFIED_ON
    )
    assert result.verdict is engine.Verdict.DOES_NOT_FIT
    assert result.closure is engine.Closure.CITIZEN
    assert result.requirements[0].outcome is engine.Outcome.NOT_MET
    assert "China" in wording.reason(result)


def test_the_k_visa_does_not_fit_before_it_opens_on_1_october_2025(loaded):
    (route,) = load_rulebook(slugs=["cn-k"]).routes
    assert route.opens_on == dt.date(2025, 10, 1)
    before = engine.evaluate_route(route, K_VISA_APPLICANT, dt.date(2025, 9, 30))
    assert before.verdict is engine.Verdict.DOES_NOT_FIT
    assert before.closure is engine.Closure.NOT_YET_OPEN
    assert wording.reason(before) == (
        "This route opens on 1 October 2025; it was not open on 30 September 2025."
    )
    opening_day = engine.evaluate_route(route, K_VISA_APPLICANT, dt.date(2025, 10, 1))
    assert opening_day.closure is None
    assert opening_day.verdict is engine.Verdict.MAY_FIT


def test_extra_questions_are_asked_only_when_they_matter(loaded):
    core = parse(TEXT)["questions"]
    extras = [q for q in core if q["order"] >= 300]
    assert extras
    assert all(q["ask_if"] for q in extras), [q["key"] for q in extras if not q["ask_if"]]


def test_loading_twice_creates_nothing_new(loaded):
    before = (Route.objects.count(), Requirement.objects.count(), Question.objects.count())
    report = import_catalogue(TEXT)
    assert report.routes_created == []
    assert sorted(report.routes_skipped) == sorted(SLUGS)
    assert (Route.objects.count(), Requirement.objects.count(), Question.objects.count()) == before


def test_every_source_is_a_page_no_later_than_the_routes_last_check(loaded):
    """Advisers can check each fact on the page it came from: never a site's home page, never
    an empty link, never our own fact sheet, and never dated after the route was verified."""
    problems = []
    for model in (KeyFact, RequirementValue, OpenQuestion):
        for row in model.objects.select_related(
            "requirement__route" if model is RequirementValue else "route"
        ):
            route = row.requirement.route if model is RequirementValue else row.route
            parts = urlsplit(row.source_url)
            if parts.scheme not in ("http", "https") or parts.path in ("", "/"):
                problems.append((route.slug, row.source_url))
            if "fact sheet" in row.source_title.lower():
                problems.append((route.slug, row.source_title))
            if row.source_as_of > route.last_verified_on:
                problems.append((route.slug, row.source_as_of))
    assert problems == []
    assert RequirementValue.objects.count() > 100


def test_the_stored_catalogue_has_no_problems(loaded):
    assert catalogue_problems(dt.date(2026, 11, 28)) == []
