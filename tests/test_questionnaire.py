"""The applicant questionnaire: start, one question per step, check your answers, resume and
delete, with and without htmx."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from eligibility import questionnaire
from eligibility.engine import Verdict
from eligibility.models import Answer, Assessment, Question
from eligibility.rules import load_rulebook
from tests.factories import RequirementFactory, RouteFactory, blue_card, joint_route

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
# The `assessment` fixture's first answers: asked of everyone, before anything else.
CITIZEN = {"citizenship": ["IN"], "current_country": "IN", "destination_countries": None}


def k_visa():
    """A small K visa: a STEM bachelor's degree or higher."""
    route = RouteFactory(slug="cn-k-visa", name="K visa", country="CN", currency="CNY")
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="education_level"),
        operator="gte",
        value="bachelor",
    )
    RequirementFactory(
        route=route, question=Question.objects.get(key="stem_field"), operator="eq", value=True
    )
    return route


@pytest.fixture
def routes(db):
    return [blue_card(), k_visa()]


@pytest.fixture
def assessment(db):
    """An Indian citizen living in India, open to every country (the first questions)."""
    assessment = Assessment.objects.create()
    for key, value in CITIZEN.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def q_url(assessment: Assessment, key: str, **query: str) -> str:
    url = reverse("question", args=[assessment.token, key])
    return url + ("?next=check" if query.get("next") == "check" else "")


def without_csrf(content: bytes) -> str:
    """A page without its CSRF token and CSP nonce, which are new in every response."""
    return re.sub(r'("X-CSRFToken": |nonce=)"[^"]+"', "", content.decode())


def saved(assessment: Assessment) -> dict[str, object]:
    return {a.question_key: a.value for a in Answer.objects.filter(assessment=assessment)}


def answer(client: Client, assessment: Assessment, key: str, value: str, **extra):
    return client.post(q_url(assessment, key), {"answer": value}, **extra)


# --- Start ------------------------------------------------------------------------------------


def test_the_start_page_says_what_this_is_and_how_long_answers_are_kept(client, settings):
    settings.ASSESSMENT_RETENTION_DAYS = 21
    page = client.get(reverse("start")).content.decode()
    assert "decision support, not legal advice" in page
    assert "21 days" in page
    assert 'method="post"' in page
    assert "e-mail" in page.lower() and 'type="email"' not in page


def test_starting_creates_an_anonymous_assessment_and_asks_the_first_question(client, routes):
    response = client.post(reverse("begin"))
    assessment = Assessment.objects.get()
    assert len(assessment.token) >= 43  # 256 random bits, URL-safe
    assert response.status_code == 302
    # Citizenship comes first: a citizen of a route's country needs no visa there.
    assert response["Location"] == q_url(assessment, "citizenship")


def test_start_only_accepts_post(client):
    assert client.get(reverse("begin")).status_code == 405


def test_a_wrong_token_looks_exactly_like_a_deleted_assessment(client, assessment):
    token = assessment.token
    assessment.delete()
    deleted = client.get(reverse("check", args=[token]))
    wrong = client.get(reverse("check", args=["x" * 43]))
    assert deleted.status_code == wrong.status_code == 404
    assert without_csrf(deleted.content) == without_csrf(wrong.content)


def test_an_assessment_past_its_retention_period_is_a_404_before_the_purge_runs(
    client, assessment, settings
):
    settings.ASSESSMENT_RETENTION_DAYS = 30
    Assessment.objects.filter(pk=assessment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=31)
    )
    assert client.get(reverse("check", args=[assessment.token])).status_code == 404
    assert client.post(reverse("ask_for_pdf", args=[assessment.token])).status_code == 404


def test_an_assessment_a_day_inside_its_retention_period_is_still_served(
    client, assessment, settings
):
    settings.ASSESSMENT_RETENTION_DAYS = 30
    Assessment.objects.filter(pk=assessment.pk).update(
        created_at=timezone.now() - dt.timedelta(days=29)
    )
    assert client.get(reverse("check", args=[assessment.token])).status_code == 200


# --- Widgets by kind --------------------------------------------------------------------------


def test_a_number_question_is_a_labelled_text_input_with_a_numeric_keyboard(
    client, assessment, routes
):
    page = client.get(q_url(assessment, "age")).content.decode()
    assert '<label for="answer-field">How old are you?</label>' in page
    assert 'inputmode="numeric"' in page
    assert "I don&#x27;t know" in page or "I don't know" in page


def test_a_choice_question_is_a_fieldset_of_radios(client, assessment, routes):
    page = client.get(q_url(assessment, "education_level")).content.decode()
    assert "<fieldset" in page and "<legend" in page
    assert page.count('type="radio"') == 6


def test_a_yes_no_question_offers_yes_and_no(client, assessment, routes):
    page = client.get(q_url(assessment, "stem_field")).content.decode()
    assert 'value="yes"' in page and 'value="no"' in page


def test_a_country_question_lists_countries_and_its_extra_choices(client, assessment, routes):
    page = client.get(q_url(assessment, "job_offer_country")).content.decode()
    assert '<option value="none">No job offer</option>' in page
    assert '<option value="DE">Germany</option>' in page


def test_citizenship_takes_one_country_and_optionally_a_second(client, assessment, routes):
    page = client.get(q_url(assessment, "citizenship")).content.decode()
    assert '<select id="answer-field" name="answer"' in page
    assert '<select id="also-field" name="also"' in page
    client.post(q_url(assessment, "citizenship"), {"answer": "IN", "also": "GB"})
    assert saved(assessment)["citizenship"] == ["IN", "GB"]
    client.post(q_url(assessment, "citizenship"), {"answer": "CN", "also": ""})
    assert saved(assessment)["citizenship"] == ["CN"]


def test_a_bad_citizenship_keeps_the_one_saved(client, assessment, routes):
    response = client.post(q_url(assessment, "citizenship"), {"answer": "XX", "also": ""})
    assert "two-letter ISO country code" in response.content.decode()
    assert saved(assessment)["citizenship"] == ["IN"]


def test_a_chinese_citizen_sees_the_k_visa_apart_as_needing_no_visa(client, assessment, routes):
    client.post(q_url(assessment, "citizenship"), {"answer": "CN"})
    page = client.get(reverse("results", args=[assessment.token])).content.decode()
    assert "No visa needed (1)" in page
    assert "You are a citizen of China, so you need no visa to live and work there." in page


def test_every_question_offers_i_dont_know(client, assessment, routes):
    for key in Question.objects.values_list("key", flat=True):
        page = client.get(q_url(assessment, key)).content.decode()
        assert 'name="dont_know"' in page, key


def test_the_salary_field_shows_the_currency_of_the_job_offer_country(client, assessment, routes):
    answer(client, assessment, "job_offer_country", "DE")
    page = client.get(q_url(assessment, "offered_salary")).content.decode()
    assert '<span class="input-suffix">EUR</span>' in page


def test_an_unknown_question_is_a_404(client, assessment):
    assert client.get(q_url(assessment, "favourite_colour")).status_code == 404


# --- Answering without JavaScript -------------------------------------------------------------


def test_a_good_answer_is_saved_and_redirects_to_the_next_question(client, assessment, routes):
    response = answer(client, assessment, "education_level", "master")
    assert response.status_code == 302
    assert response["Location"] == q_url(assessment, "stem_field")
    assert saved(assessment) == {**CITIZEN, **{"education_level": "master"}}


def test_i_dont_know_stores_null_whatever_was_typed(client, assessment, routes):
    client.post(q_url(assessment, "age"), {"answer": "abc", "dont_know": "1"})
    assert saved(assessment) == {**CITIZEN, **{"age": None}}


def test_money_is_stored_as_a_plain_decimal_string(client, assessment, routes):
    answer(client, assessment, "offered_salary", "€52 000")
    assert saved(assessment) == {**CITIZEN, **{"offered_salary": "52000"}}


def test_a_bad_salary_keeps_the_earlier_answers(client, assessment, routes):
    answer(client, assessment, "job_offer_country", "DE")
    answer(client, assessment, "offered_salary", "52000")
    before = saved(assessment)

    response = answer(client, assessment, "offered_salary", "lots")

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert '<a href="#answer-field">Enter your offered salary as an amount' in page
    assert 'id="answer-field"' in page and 'value="lots"' in page
    assert saved(assessment) == before


def test_an_empty_choice_asks_to_choose_or_say_i_dont_know(client, assessment, routes):
    response = client.post(q_url(assessment, "education_level"), {})
    assert response.status_code == 200
    assert "or choose “I don&#x27;t know”" in response.content.decode()
    assert saved(assessment) == CITIZEN


def test_the_last_answer_leads_to_check_your_answers(client, assessment, routes):
    for key, value in [
        ("education_level", "master"),
        ("stem_field", "yes"),
        ("job_offer_country", "DE"),
    ]:
        response = answer(client, assessment, key, value)
    assert response["Location"] == q_url(assessment, "offered_salary")
    response = answer(client, assessment, "offered_salary", "60000")
    assert response["Location"] == reverse("check", args=[assessment.token])


# --- Answering with htmx ----------------------------------------------------------------------


def test_with_htmx_a_good_answer_returns_the_next_step_and_the_route_panel(
    client, assessment, routes
):
    response = answer(client, assessment, "education_level", "master", **HTMX)
    assert response.status_code == 200
    assert response["HX-Push-Url"] == q_url(assessment, "stem_field")
    assert "HX-Request" in response["Vary"]
    page = response.content.decode()
    assert "<html" not in page
    assert 'id="step"' in page and "Is your highest qualification in science" in page
    assert '<ul id="panel-routes" hx-swap-oob="innerHTML">' in page
    assert '<p id="panel-counts" hx-swap-oob="innerHTML">' in page


def test_with_htmx_a_bad_answer_comes_back_as_a_step_htmx_swaps(client, assessment, routes):
    response = answer(client, assessment, "age", "ninety-nine", **HTMX)
    assert response.status_code == 200
    assert "Enter your age as a whole number from 16 to 100." in response.content.decode()
    assert saved(assessment) == CITIZEN


def test_with_htmx_the_last_answer_redirects_the_browser_to_the_summary(client, assessment, routes):
    client.post(q_url(assessment, "age"), {"dont_know": "1"})
    for key, value in [("education_level", "none"), ("job_offer_country", "none")]:
        response = answer(client, assessment, key, value, **HTMX)
    assert response["HX-Redirect"] == reverse("check", args=[assessment.token])


def test_a_history_restore_gets_the_whole_page(client, assessment, routes):
    response = client.get(
        q_url(assessment, "age"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


# --- The live route panel ---------------------------------------------------------------------


def test_the_route_panel_counts_routes_by_state(client, assessment, routes):
    answer(client, assessment, "job_offer_country", "US")
    page = client.get(q_url(assessment, "education_level")).content.decode()
    assert "<strong>0</strong> fit" in page
    assert "<strong>1</strong> may fit" in page
    assert "<strong>1</strong> does not fit" in page
    assert "ruled out" not in page


# --- Adaptive flow ----------------------------------------------------------------------------


def test_salary_is_not_asked_once_nothing_depends_on_it(client, assessment, routes):
    answer(client, assessment, "education_level", "master")
    answer(client, assessment, "stem_field", "yes")
    response = answer(client, assessment, "job_offer_country", "US")
    assert response["Location"] == reverse("check", args=[assessment.token])


def test_a_conditional_question_is_not_asked_when_its_condition_fails(routes):
    book = load_rulebook()
    salary = book.question("offered_salary")
    on = dt.date(2026, 6, 1)
    assert not questionnaire.should_ask(salary, book, {"job_offer_country": "none"}, on)
    assert questionnaire.should_ask(salary, book, {"job_offer_country": "DE"}, on)
    asked = questionnaire.walk(book, {"job_offer_country": "none"}, on)
    assert "offered_salary" not in asked


def test_the_flow_stops_once_every_verdict_is_settled(routes):
    book = load_rulebook()
    on = dt.date(2026, 6, 1)
    profile = {
        "citizenship": ("IN",),
        "education_level": "master",
        "stem_field": True,
        "job_offer_country": "DE",
        "offered_salary": Decimal(60000),
    }
    asked = questionnaire.walk(book, profile, on)
    assert asked == ["citizenship", "current_country", "destination_countries", *list(profile)[1:]]
    results = questionnaire.route_panel(book, profile, on)
    assert results.fits == 2


def test_a_question_that_decides_a_route_only_with_another_is_still_asked(db):
    """(STEM and no dependants) or funds: no single answer settles it, yet all three can."""
    joint_route()
    book = load_rulebook()
    on = dt.date(2026, 6, 1)

    profile = {"citizenship": ("IN",), "has_dependants": False, "stem_field": True}
    asked = questionnaire.walk(book, profile, on)

    assert asked == [
        "citizenship",
        "current_country",
        "destination_countries",
        "has_dependants",
        "stem_field",
    ]
    assert questionnaire.route_panel(book, profile, on).fits == 1


# --- Check your answers -----------------------------------------------------------------------


def test_check_your_answers_lists_every_answer_with_a_change_link(client, assessment, routes):
    answer(client, assessment, "education_level", "master")
    client.post(q_url(assessment, "stem_field"), {"dont_know": "1"})
    page = client.get(reverse("check", args=[assessment.token])).content.decode()
    assert "Master&#x27;s degree" in page
    assert "I don&#x27;t know" in page
    assert f'href="{q_url(assessment, "education_level", next="check")}"' in page
    assert f'href="{q_url(assessment, "stem_field", next="check")}"' in page


def test_skipped_questions_stay_answerable_from_the_summary(client, assessment, routes):
    answer(client, assessment, "job_offer_country", "US")
    page = client.get(reverse("check", args=[assessment.token])).content.decode()
    assert "How old are you?" in page
    assert f'href="{q_url(assessment, "age", next="check")}"' in page


def test_changing_an_answer_returns_to_the_summary_and_keeps_the_others(client, assessment, routes):
    answer(client, assessment, "education_level", "master")
    answer(client, assessment, "stem_field", "yes")
    answer(client, assessment, "job_offer_country", "DE")

    change = client.get(q_url(assessment, "job_offer_country", next="check")).content.decode()
    assert '<option value="DE" selected>' in change
    response = client.post(q_url(assessment, "job_offer_country", next="check"), {"answer": "US"})

    assert response["Location"] == reverse("check", args=[assessment.token])
    assert saved(assessment) == {
        **CITIZEN,
        "education_level": "master",
        "stem_field": True,
        "job_offer_country": "US",
    }


def test_the_summary_offers_a_resume_link_and_deleting(client, assessment):
    page = client.get(reverse("check", args=[assessment.token])).content.decode()
    assert f"http://testserver/a/{assessment.token}/" in page
    assert reverse("delete", args=[assessment.token]) in page


# --- Resume and delete ------------------------------------------------------------------------


def test_the_resume_link_leads_to_the_next_unanswered_question(client, assessment, routes):
    answer(client, assessment, "education_level", "master")
    response = client.get(reverse("resume", args=[assessment.token]))
    assert response["Location"] == q_url(assessment, "stem_field")


def test_deleting_asks_first_then_removes_every_answer_for_good(client, assessment, routes):
    answer(client, assessment, "education_level", "master")
    confirm = client.get(reverse("delete", args=[assessment.token]))
    assert "Yes, delete my answers" in confirm.content.decode()
    assert Assessment.objects.exists()

    response = client.post(reverse("delete", args=[assessment.token]))

    assert response["Location"] == reverse("deleted")
    assert not Assessment.objects.exists() and not Answer.objects.exists()
    assert client.get(reverse("resume", args=[assessment.token])).status_code == 404


# --- Queries ----------------------------------------------------------------------------------


def many_routes(count: int) -> None:
    blue_card()
    for _ in range(count - 1):
        RequirementFactory(route=RouteFactory())


@pytest.mark.parametrize("count", [1, 30])
def test_a_step_takes_the_same_queries_whatever_the_number_of_routes(
    client, assessment, count, django_assert_num_queries
):
    many_routes(count)
    url = q_url(assessment, "age")
    with django_assert_num_queries(9):  # 7 of them load the rules
        client.get(url)
    with django_assert_num_queries(2):  # the rules are cached now: only the assessment's rows
        client.get(url, **HTMX)


@pytest.mark.parametrize("count", [1, 30])
def test_answering_takes_the_same_queries_whatever_the_number_of_routes(
    client, assessment, count, django_assert_num_queries
):
    many_routes(count)
    with django_assert_num_queries(10):  # 7 of them load the rules
        answer(client, assessment, "age", "30")
    with django_assert_num_queries(3):  # the rules are cached now
        answer(client, assessment, "age", "31", **HTMX)


# --- How many questions typical profiles are asked --------------------------------------------


def test_typical_profiles_are_asked_fewer_questions_than_exist(routes):
    book = load_rulebook()
    on = dt.date(2026, 6, 1)
    profiles = {
        "STEM master's with a German offer": {
            "education_level": "master",
            "stem_field": True,
            "job_offer_country": "DE",
            "offered_salary": Decimal(60000),
        },
        "no degree, no offer": {"education_level": "secondary", "job_offer_country": "none"},
    }
    for profile in profiles.values():
        asked = questionnaire.walk(book, profile, on)
        assert len(asked) < len(book.questions)
        assert len(asked) == len(set(asked))
    verdicts = {r.verdict for r in questionnaire.route_panel(book, {}, on).results}
    assert verdicts == {Verdict.MAY_FIT}


# --- The real catalogue: typical profiles -----------------------------------------------------

BASE_PROFILE = {
    "age": 29,
    "current_country": "IN",
    "has_dependants": False,
    "education_level": "master",
    "stem_field": True,
    "university_rank": "top500",
    "graduation_year": 2022,
    "degree_country": "IN",
    "years_experience": 4,
    "job_offer_country": "none",
    "english_level": "C1",
    "german_level": "none",
    "chinese_level": "none",
    "korean_level": "none",
    "japanese_level": "none",
    "proof_of_funds": True,
    "degree_matches_job": True,
    "de_degree_comparable": True,
    "de_shortage_occupation": False,
    "de_it_specialist": False,
    "de_recognition": "none",
    "de_qualification_state_recognised": True,
    "de_six_months_stay": False,
    "de_partner_joint": False,
    "uk_hpi_listed_university": False,
    "cn_stem_teaching_research": True,
}
TYPICAL_PROFILES = {
    "Indian STEM master's, no job offer": {},
    "German offer paying €58,000": {
        "job_offer_country": "DE",
        "offered_salary": Decimal(58000),
        "german_level": "B1",
    },
    "US offer, cap-exempt university employer": {
        "job_offer_country": "US",
        "offered_salary": Decimal(95000),
        "us_cap_exempt_employer": True,
        "us_o1_major_award": False,
        "us_o1_criteria_count": 1,
    },
    "Secondary school only, no offer, 45": {
        "age": 45,
        "education_level": "secondary",
        "stem_field": False,
        "university_rank": "other",
    },
}


@pytest.fixture
def catalogue(imported_catalogue):
    return load_rulebook()


@pytest.mark.parametrize("name", TYPICAL_PROFILES)
def test_a_typical_profile_is_asked_only_what_can_change_a_verdict(catalogue, name):
    profile = {**BASE_PROFILE, **TYPICAL_PROFILES[name]}
    on = dt.date(2026, 6, 1)

    asked = questionnaire.walk(catalogue, profile, on)

    assert len(asked) < len(catalogue.questions)
    assert len(asked) == len(set(asked))
    given = {key: profile.get(key) for key in asked}
    skipped_nothing = {key: profile.get(key) for key in (q.key for q in catalogue.questions)}
    verdicts = [r.verdict for r in questionnaire.route_panel(catalogue, given, on).results]
    full = [r.verdict for r in questionnaire.route_panel(catalogue, skipped_nothing, on).results]
    assert verdicts == full


@pytest.mark.parametrize(
    ("key", "hostile"),
    [
        ("uk_hpi_funds", "1E-300000000"),
        ("uk_hpi_funds", "1E+999999"),
        ("uk_hpi_funds", "1.270.5"),
        ("uk_hpi_funds", ""),
        ("de_it_experience_last_7", "99999999999999999999999"),
        ("de_experience_last_5", "-1"),
        ("us_wage_level", "V"),
        ("us_outside_without_h1b_visa", "\u202eyes"),
    ],
)
def test_a_hostile_answer_to_a_new_catalogue_question_keeps_the_saved_ones(
    client, assessment, key, hostile, imported_catalogue
):
    answer(client, assessment, "job_offer_country", "US")
    before = saved(assessment)

    response = answer(client, assessment, key, hostile)

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert saved(assessment) == before


def test_full_width_digits_are_read_as_the_plain_amount(client, assessment, imported_catalogue):
    """Japanese and Chinese keyboards type "１２７０"; it is stored as 1270, never as text."""
    answer(client, assessment, "uk_hpi_funds", "１２７０")
    assert saved(assessment)["uk_hpi_funds"] == "1270"
