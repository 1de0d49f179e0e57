"""The results page: the best options first, routes grouped by verdict, each explained, and the
evaluation recorded so that a later visit can say what changed. (Ranking, the job-offer group,
settling questions and the comparison: test_decisions.py.)"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from eligibility.models import Answer, Assessment, Question, RequirementValue, ResultsPdf, Route
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    blue_card,
    h1b,
    joint_route,
    unclear_k_visa,
)
from tests.pdf_queue import work_off_pdf_queue

pytestmark = pytest.mark.django_db


def assessment_with(**answers: object) -> Assessment:
    """An Indian citizen's answers (citizenship can be overridden, or None to leave it out)."""
    answers = {"citizenship": ["IN"], **answers}
    if answers["citizenship"] is None:
        del answers["citizenship"]
    assessment = Assessment.objects.create()
    for key, value in answers.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


@pytest.fixture
def routes(db):
    return [blue_card(), h1b(), unclear_k_visa()]


@pytest.fixture
def german_offer(routes):
    return assessment_with(education_level="master", job_offer_country="DE", offered_salary="45000")


def results_page(client, assessment: Assessment) -> str:
    response = client.get(reverse("results", args=[assessment.token]))
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    end = page.find("</section>", start)
    return page[start:end]


def test_routes_are_grouped_as_fits_may_fit_and_does_not_fit(client, routes):
    assessment = assessment_with(education_level="master", job_offer_country="US", age=30)
    page = results_page(client, assessment)
    assert "H-1B" in section(page, "group-fits")
    assert "K visa" in section(page, "group-may_fit")
    assert "EU Blue Card" in section(page, "group-with_offer")
    page = results_page(
        client, assessment_with(education_level="secondary", job_offer_country="none", age=30)
    )
    assert "EU Blue Card" in section(page, "group-with_offer")
    assert "H-1B" in section(page, "group-does_not_fit")


def test_each_route_says_why_in_one_line(client, german_offer):
    page = results_page(client, german_offer)
    assert (
        "Not met: Offered salary must be at least €50,700 a year (from 1 January 2026); "
        "you answered €45,000." in page
    )
    assert "Unclear rule: Young science and technology talent (no published age limit)" in page


def test_a_route_expands_to_every_requirement_beside_the_answer(client, german_offer):
    page = results_page(client, german_offer)
    blue = page[page.index('id="route-de-blue-card"') :]
    blue = blue[: blue.index("</article>")]
    assert "<details" in blue
    assert "Job offer country must be Germany" in blue
    assert "Offered salary must be at least €50,700 a year (from 1 January 2026)" in blue
    assert "€45,000" in blue
    assert 'class="outcome outcome-not_met">Not met' in blue
    assert 'class="outcome outcome-met">Met' in blue


def test_gap_hints_open_questions_key_facts_and_sources_are_shown(client, german_offer):
    page = results_page(client, german_offer)
    assert "€5,700 short of €50,700 a year (from 1 January 2026)." in page
    assert "27 or 21 months?" in page
    assert "€75 visa, €100 permit" in page
    assert "Example Gazette</a>, as of 28 November 2026" in page
    assert "Young science and technology talent (no published age limit)" in page


def test_an_unanswered_question_that_matters_is_an_open_question_with_a_link(client, routes):
    assessment = assessment_with(job_offer_country="DE")
    page = results_page(client, assessment)
    assert "Not answered yet: “What annual gross salary" in page
    assert reverse("question", args=[assessment.token, "offered_salary"]) + "?next=results" in page


def test_points_routes_show_the_points_breakdown(client, routes):
    route = RouteFactory(slug="nz-points", name="Points route", points_needed=6)
    age = Question.objects.get(key="age")
    RequirementFactory(
        route=route, question=age, operator="lte", value=39, points=3, points_group="Age"
    )
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="education_level"),
        operator="gte",
        value="master",
        points=2,
        points_group="Education",
    )
    page = results_page(client, assessment_with(age=30, education_level="master"))
    assert "5 points of 6 needed" in page
    assert "<strong>Age</strong>: 3 points" in page
    assert "1 point short (5 of 6 needed)." in page


def test_an_overdue_route_is_flagged(client, routes):
    Route.objects.filter(slug="us-h1b").update(
        last_verified_on=dt.date(2020, 1, 1), review_interval_days=90
    )
    page = results_page(client, assessment_with())
    h1b_article = page[page.index('id="route-us-h1b"') :]
    assert "Review overdue" in h1b_article[: h1b_article.index("</article>")]
    blue = page[page.index('id="route-de-blue-card"') :]
    assert "Review overdue" not in blue[: blue.index("</article>")]


def test_the_answers_are_shown_after_the_routes(client, german_offer):
    page = results_page(client, german_offer)
    answers = section(page, "answers-heading")
    assert "Master&#x27;s degree" in answers and "Germany" in answers
    assert page.index('id="answers-heading"') > page.index('id="route-de-blue-card"')


def test_the_evaluation_is_recorded_with_date_rules_version_and_verdicts(client, german_offer):
    page = results_page(client, german_offer)
    german_offer.refresh_from_db()
    assert german_offer.evaluated_at is not None
    assert german_offer.verdicts == {
        "de-blue-card": "does_not_fit",
        "us-h1b": "does_not_fit",
        "cn-k-visa": "may_fit",
    }
    assert f"against rules <code>{german_offer.rules_version}</code>" in page
    assert "Evaluated on" in page


def test_reloading_after_a_rule_change_says_which_verdicts_changed(client, german_offer):
    results_page(client, german_offer)
    threshold = RequirementValue.objects.get(requirement__route__slug="de-blue-card", value=50700)
    threshold.value = 40000
    threshold.save()  # as the admin does; saving is what tells every process the rules changed

    page = results_page(client, german_offer)

    assert "The rules have changed since you last looked" in page
    notice = page[page.index("The rules have changed") :]
    notice = notice[: notice.index("</div>")]
    assert "<strong>EU Blue Card</strong>: Does not fit → Fits" in notice
    assert "H-1B" not in notice


def test_reloading_with_unchanged_rules_says_nothing_changed(client, german_offer):
    results_page(client, german_offer)
    page = results_page(client, german_offer)
    assert "The rules have changed" not in page


def test_results_of_a_wrong_token_are_a_404(client):
    assert client.get(reverse("results", args=["nope" * 11])).status_code == 404


@pytest.mark.parametrize("count", [1, 30])
def test_results_take_the_same_queries_whatever_the_number_of_routes(
    client, count, django_assert_num_queries
):
    blue_card()
    for _ in range(count - 1):
        route = RouteFactory()
        RequirementFactory(route=route)
        KeyFactFactory(route=route)
        OpenQuestionFactory(route=route)
    assessment = assessment_with(age=30, job_offer_country="DE")
    with django_assert_num_queries(10):
        client.get(reverse("results", args=[assessment.token]))


def test_questions_that_decide_a_route_only_together_are_open_questions(client, db):
    joint_route(name="Joint route")
    page = results_page(client, assessment_with())
    assert (
        "Not answered yet: “Is your highest qualification in science, technology, "
        "engineering or maths?” could decide this route." in page
    )


def test_a_stored_condition_or_value_that_cannot_be_read_never_breaks_a_page(client, routes):
    """Before: a show_if value "abc" on a number question made every results page 500. Values
    are parsed when saved, so only SQL or an old row can hold one; the pages still work."""
    OpenQuestion = OpenQuestionFactory._meta.model
    blue = Route.objects.get(slug="de-blue-card")
    broken = OpenQuestionFactory(route=blue, topic="Broken", text="Shown while its rule is unread.")
    OpenQuestion.objects.filter(pk=broken.pk).update(
        show_if=[{"question": "age", "operator": "gte", "value": "abc"}]
    )
    RequirementValue.objects.filter(requirement__route=blue, value=50700).update(value="abc")
    Question.objects.filter(key="offered_salary").update(
        ask_if=[{"question": "age", "operator": "gt", "value": "abc"}]
    )
    assessment = assessment_with(
        age=30, education_level="master", job_offer_country="DE", offered_salary="60000"
    )
    page = results_page(client, assessment)
    assert "Shown while its rule is unread." in page
    assert "could not be checked; advisers have been told" in page
    token = assessment.token
    assert client.get(reverse("check", args=[token])).status_code == 200
    assert client.post(reverse("ask_for_pdf", args=[token])).status_code == 302
    work_off_pdf_queue()
    assert ResultsPdf.objects.get().status == ResultsPdf.Status.READY
    assert client.get(reverse("question", args=[token, "offered_salary"])).status_code == 200
