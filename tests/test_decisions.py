"""Results that decide: the best options first by a rule that can be said in one line, the
routes a job offer would open, the questions that would settle uncertain routes, and two to
four routes side by side."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from eligibility.engine import Verdict
from eligibility.models import Question, RequirementValue, Route
from eligibility.results import RANKING_RULE, build_results
from eligibility.rules import load_rulebook
from tests.factories import (
    KeyFactFactory,
    NextStepFactory,
    RequirementFactory,
    RouteFactory,
    blue_card,
    h1b,
    unclear_k_visa,
)
from tests.test_results import assessment_with, results_page, section

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 12, 4)


@pytest.fixture
def routes(db, settings):
    settings.DEFAULT_COMPARISON = ("cn-k-visa", "us-h1b")
    return [blue_card(), h1b(), unclear_k_visa()]


def korean_routes():
    """A job-seeker visa that needs no offer and a work visa for a Korean offer."""
    seeker = RouteFactory(slug="kr-d10", name="D-10 job-seeker visa", country="KR", currency="KRW")
    RequirementFactory(
        route=seeker,
        question=Question.objects.get(key="education_level"),
        operator="gte",
        value="bachelor",
    )
    work = RouteFactory(slug="kr-e7", name="E-7-1 professional visa", country="KR", currency="KRW")
    RequirementFactory(
        route=work,
        question=Question.objects.get(key="job_offer_country"),
        operator="eq",
        value="KR",
    )
    return seeker, work


def results_for(**answers: object):
    answers = {"citizenship": ("IN",), **answers}
    return build_results(load_rulebook(), answers, ON)


# --- Best options ------------------------------------------------------------------------------


def test_routes_that_fit_come_before_routes_that_may_fit(client, routes):
    page = results_page(
        client, assessment_with(education_level="master", job_offer_country="US", age=30)
    )
    best = section(page, "best-heading")
    assert best.index("H-1B") < best.index("K visa")
    assert RANKING_RULE in best


def test_a_route_for_the_job_offer_ranks_before_a_job_seeker_visa_of_that_country(db):
    korean_routes()
    results = results_for(education_level="doctorate", job_offer_country="KR")
    assert [b.section.slug for b in results.best] == ["kr-e7", "kr-d10"]
    assert results.best[0].why.endswith("It is a route for the job you have been offered.")
    assert results.best[1].why.endswith("It is in the country of your job offer.")


def test_without_an_offer_the_job_seeker_visa_is_the_best_option(db):
    korean_routes()
    results = results_for(education_level="doctorate", job_offer_country="none")
    assert [b.section.slug for b in results.best] == ["kr-d10"]


def test_best_options_name_each_route_with_its_country(client, routes):
    page = results_page(client, assessment_with(education_level="master", age=30))
    assert "K visa</a>, China" in section(page, "best-heading")


def test_a_citizen_of_the_destination_is_not_offered_its_visa(client, routes):
    page = results_page(client, assessment_with(citizenship=["CN"], age=25))
    best = section(page, "best-heading")
    assert "As a citizen of China, you need no visa to live and work there." in best
    assert "K visa" not in best
    assert "K visa" in section(page, "group-no_visa_needed")
    assert "K visa" not in section(page, "compare-heading")


def test_with_nothing_open_the_page_says_so_and_points_at_the_offer_group(client, routes):
    page = results_page(
        client,
        assessment_with(citizenship=["CN"], education_level="master", job_offer_country="none"),
    )
    best = section(page, "best-heading")
    assert "No route fits or may fit you now." in best
    assert "2 routes would open with a job offer" in best


# --- Open to you with a job offer ------------------------------------------------------------


def test_routes_missing_only_a_job_offer_form_their_own_group(client, routes):
    page = results_page(client, assessment_with(education_level="master", job_offer_country="none"))
    group = section(page, "group-with_offer")
    assert "EU Blue Card" in group and "H-1B" in group
    assert 'id="group-does_not_fit"' not in page  # nothing else rules either out


def test_the_offer_group_says_the_salary_floor_in_the_route_currency(client, routes):
    page = results_page(client, assessment_with(education_level="master", job_offer_country="none"))
    blue = page[page.index('id="route-de-blue-card"') :]
    blue = blue[: blue.index("</article>")]
    assert "What the job offer must look like" in blue
    assert "Offered salary must be at least €50,700 a year (from 1 January 2026)" in blue
    assert "€75 visa, €100 permit" in blue  # the employer's costs, from the key fact


def test_a_route_failing_on_something_besides_the_offer_stays_under_does_not_fit(db):
    blue_card()
    h1b()
    results = results_for(education_level="secondary", job_offer_country="none")
    assert [o.section.slug for o in results.with_offer] == ["de-blue-card"]
    assert [s.slug for s in results.not_fitting] == ["us-h1b"]


def test_an_offer_in_the_country_that_pays_too_little_is_not_in_the_offer_group(db):
    blue_card()
    results = results_for(job_offer_country="DE", offered_salary="45000")
    assert results.with_offer == ()
    assert [s.slug for s in results.not_fitting] == ["de-blue-card"]


def test_answers_about_another_offer_do_not_count_against_a_route(db):
    """A German offer's low salary says nothing about a US offer."""
    blue_card()
    h1b()
    results = results_for(education_level="master", job_offer_country="DE", offered_salary="45000")
    assert [o.section.slug for o in results.with_offer] == ["us-h1b"]
    assert results.with_offer[0].verdict_with_offer is Verdict.FITS
    assert results.with_offer[0].section.reason == (
        "You have no job offer in the United States of America. "
        "With one, this route would fit on your other answers."
    )


@pytest.mark.parametrize(
    ("on", "floor"),
    [
        (dt.date(2025, 12, 31), "Offered salary must be at least €48,300 a year"),
        (dt.date(2026, 1, 1), "Offered salary must be at least €50,700 a year"),
    ],
)
def test_the_salary_floor_is_the_figure_in_force_on_the_day(db, on, floor):
    blue_card()
    answers = {"citizenship": ("IN",), "job_offer_country": "none"}
    cell = build_results(load_rulebook(), answers, on).with_offer[0].salary_floor
    assert cell.lines[0].startswith(floor)
    assert not cell.unclear


def test_a_salary_floor_with_no_figure_on_the_day_is_unpublished_not_absent(db):
    """The day after the last published figure ends, the floor is unknown: it never reads as
    "no salary floor", which would look better than the truth."""
    RequirementValue.objects.filter(requirement__route=blue_card(), value=50700).update(
        effective_until=dt.date(2026, 12, 31)
    )
    answers = {"citizenship": ("IN",), "job_offer_country": "none"}
    book = load_rulebook()
    on_the_day = build_results(book, answers, dt.date(2026, 12, 31)).with_offer[0].salary_floor
    after = build_results(book, answers, dt.date(2027, 1, 1)).with_offer[0].salary_floor
    assert on_the_day.lines[0].startswith("Offered salary must be at least €50,700 a year")
    assert after.lines == ("Offered salary: no figure has been published for 1 January 2027 yet",)
    assert after.unclear and after.published


def test_a_route_without_a_salary_rule_says_so_rather_than_a_number(db):
    h1b()
    results = results_for(education_level="master", job_offer_country="none")
    floor = results.with_offer[0].salary_floor
    assert floor.lines == ("No salary floor in the published rules",)
    assert not floor.published


# --- Settle the uncertain ones -----------------------------------------------------------------


def test_may_fit_routes_link_the_questions_that_would_settle_them_back_to_results(client, routes):
    assessment = assessment_with(job_offer_country="US")
    page = results_page(client, assessment)
    settle = section(page, "settle-heading")
    link = reverse("question", args=[assessment.token, "education_level"]) + "?next=results"
    assert link in settle
    assert "could settle 1 route that may fit" in settle


def test_a_route_kept_open_by_an_unclear_rule_is_said_to_stay_uncertain(client, routes):
    page = results_page(client, assessment_with(age=30))
    assert "Whatever you answer, K visa, China stays uncertain" in section(page, "settle-heading")


def test_answering_a_settling_question_returns_to_results(client, routes):
    assessment = assessment_with(job_offer_country="US")
    url = reverse("question", args=[assessment.token, "education_level"]) + "?next=results"
    response = client.post(url, {"answer": "master"})
    assert response.status_code == 302
    assert response.url == reverse("results", args=[assessment.token])
    page = results_page(client, assessment)
    assert "H-1B" in section(page, "group-fits")


# --- Compare side by side ---------------------------------------------------------------------


def compared(client, assessment, *slugs: str) -> str:
    url = reverse("results", args=[assessment.token])
    response = client.get(url, {"compare": list(slugs)} if slugs else {})
    return section(response.content.decode(), "compare-heading")


def test_the_k_visa_and_the_h1b_are_compared_by_default_when_both_are_in_play(client, routes):
    table = compared(
        client, assessment_with(education_level="master", age=25, job_offer_country="none")
    )
    caption = table[table.index("<caption") : table.index("</caption>")]
    assert "K visa, China" in caption and "H-1B, United States of America" in caption
    assert "$215 registration" in table  # costs, from the H-1B's key fact
    assert "Does not fit without a job offer there" in table


def test_two_chosen_routes_are_compared(client, routes):
    table = compared(client, assessment_with(age=25), "de-blue-card", "us-h1b")
    caption = table[table.index("<caption") : table.index("</caption>")]
    assert "EU Blue Card" in caption and "H-1B" in caption and "K visa" not in caption


def test_one_chosen_route_is_not_a_comparison(client, routes):
    table = compared(client, assessment_with(education_level="master", age=25), "us-h1b")
    assert "Choose at least two routes to compare." in table


def test_more_than_four_routes_are_cut_to_four_with_a_message(client, routes):
    for n in range(3):
        RouteFactory(slug=f"extra-{n}", name=f"Extra {n}")
    slugs = ["de-blue-card", "us-h1b", "cn-k-visa", "extra-0", "extra-1"]
    table = compared(client, assessment_with(age=25), *slugs)
    assert "You can compare up to 4 routes" in table
    caption = table[table.index("<caption") : table.index("</caption>")]
    assert "Extra 0" in caption and "Extra 1" not in caption


def test_an_unknown_route_in_the_address_is_ignored(client, routes):
    table = compared(client, assessment_with(age=25), "de-blue-card", "nope", "us-h1b")
    caption = table[table.index("<caption") : table.index("</caption>")]
    assert "EU Blue Card" in caption and "H-1B" in caption


def test_a_cell_the_facts_do_not_support_says_not_published(client, routes):
    table = compared(client, assessment_with(age=25), "de-blue-card", "us-h1b")
    assert "Not published" in table  # neither route has a family key fact
    KeyFactFactory(route=Route.objects.get(slug="de-blue-card"), topic="family", text="Family")
    table = compared(client, assessment_with(age=25), "de-blue-card", "us-h1b")
    assert '<p class="cell-line">Family</p>' in table


# --- Next steps -----------------------------------------------------------------------------


def test_next_steps_show_for_routes_one_can_pursue_with_their_official_page(client, routes):
    NextStepFactory(
        route=Route.objects.get(slug="us-h1b"),
        text="Your US employer registers you in the lottery.",
        url="https://www.uscis.gov/h-1b",
    )
    NextStepFactory(route=Route.objects.get(slug="de-blue-card"), text="Find a German employer.")
    page = results_page(client, assessment_with(education_level="master", job_offer_country="US"))
    h1b_article = page[page.index('id="route-us-h1b"') :]
    h1b_article = h1b_article[: h1b_article.index("</article>")]
    assert "Your US employer registers you in the lottery." in h1b_article
    assert 'href="https://www.uscis.gov/h-1b"' in h1b_article
    # The Blue Card is open with an offer in Germany: its steps show too.
    assert "Find a German employer." in page
