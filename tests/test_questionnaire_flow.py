"""The questionnaire's flow on the real catalogue and on small routes: the countries the
applicant picks, the order of sections, an honest progress line, the live panel, settle and
return, and one reading of "what could still change a result"."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility import engine, questionnaire
from eligibility.engine import Kind, RuleBook
from eligibility.models import Answer, Assessment, Question
from eligibility.rules import load_rulebook
from tests.factories import RequirementFactory, RouteFactory, blue_card

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 12, 4)
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def catalogue(imported_catalogue) -> RuleBook:
    return load_rulebook()


def k_visa():
    route = RouteFactory(slug="cn-k-visa", name="K visa", country="CN", currency="CNY")
    RequirementFactory(
        route=route, question=Question.objects.get(key="stem_field"), operator="eq", value=True
    )
    return route


def make_assessment(**answers: Any) -> Assessment:
    assessment = Assessment.objects.create()
    for key, value in answers.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def q_url(assessment: Assessment, key: str, suffix: str = "") -> str:
    return reverse("question", args=[assessment.token, key]) + suffix


# --- Countries the applicant cares about ------------------------------------------------------


def test_where_they_live_and_which_countries_come_right_after_citizenship(catalogue):
    asked = questionnaire.walk(catalogue, {"citizenship": ("IN",)}, ON)
    assert asked[:3] == ["citizenship", "current_country", "destination_countries"]


def test_the_countries_question_is_a_list_of_checkboxes_of_countries_with_routes(client, db):
    blue_card()
    assessment = make_assessment(citizenship=["IN"], current_country="IN")
    page = client.get(q_url(assessment, "destination_countries")).content.decode()
    assert page.count('type="checkbox" name="answer"') == 7
    assert 'value="DE"' in page and ">Germany</label>" in page
    assert "Which countries would you consider moving to?" in page
    assert "leave them all unticked" in page


def test_ticking_none_means_every_country(client, db):
    blue_card()
    assessment = make_assessment(citizenship=["IN"], current_country="IN")
    client.post(q_url(assessment, "destination_countries"), {})
    row = Answer.objects.get(assessment=assessment, question_key="destination_countries")
    assert row.value is None
    book = load_rulebook()
    assert questionnaire.chosen_countries(book, {"destination_countries": None}) is None


def test_ticked_countries_are_saved_and_shown_ticked_again(client, db):
    blue_card()
    assessment = make_assessment(citizenship=["IN"], current_country="IN")
    client.post(q_url(assessment, "destination_countries"), {"answer": ["DE", "US"]})
    row = Answer.objects.get(assessment=assessment, question_key="destination_countries")
    assert row.value == ["DE", "US"]
    page = client.get(q_url(assessment, "destination_countries")).content.decode()
    assert 'value="DE"\n             id="answer-2"\n             checked' in page


def test_a_country_not_on_the_list_is_refused_with_every_box_marked_invalid(client, db):
    blue_card()
    assessment = make_assessment(citizenship=["IN"], current_country="IN")
    response = client.post(q_url(assessment, "destination_countries"), {"answer": ["FR"]})
    page = response.content.decode()
    assert "Choose from the countries listed" in page
    assert page.count('aria-invalid="true" aria-describedby="answer-error"') == 7
    assert not Answer.objects.filter(assessment=assessment, question_key="destination_countries")


def test_chosen_countries_is_none_for_all_and_the_picked_ones_otherwise(catalogue):
    chosen = questionnaire.chosen_countries
    assert chosen(catalogue, {}) is None
    assert chosen(catalogue, {"destination_countries": None}) is None
    assert chosen(catalogue, {"destination_countries": ("DE", "KR")}) == {"DE", "KR"}
    # A country that no longer has routes counts as no choice at all.
    assert chosen(catalogue, {"destination_countries": ("FR",)}) is None


def test_questions_only_for_unpicked_countries_are_not_asked(db):
    blue_card()
    k_visa()
    book = load_rulebook()
    profile = {"citizenship": ("IN",), "current_country": "IN", "destination_countries": ("DE",)}
    assert "stem_field" not in questionnaire.walk(book, profile, ON)
    everywhere = {**profile, "destination_countries": None}
    assert "stem_field" in questionnaire.walk(book, everywhere, ON)


def test_a_question_is_still_asked_when_a_picked_countrys_route_needs_it(catalogue):
    profile = {"citizenship": ("IN",), "current_country": "IN", "destination_countries": ("GB",)}
    asked = questionnaire.walk(catalogue, profile, ON)
    assert "education_level" in asked  # the UK's routes need it too
    assert not any(catalogue.question(k).section == "Germany" for k in asked)


# --- Section order ----------------------------------------------------------------------------


def sections_asked(book: RuleBook, profile: dict[str, Any]) -> list[str]:
    asked = questionnaire.walk(book, profile, ON)
    return list(dict.fromkeys(book.question(k).section for k in asked))


BASE = {
    "citizenship": ("IN",),
    "current_country": "IN",
    "age": 30,
    "education_level": "master",
    "stem_field": True,
    "university_rank": "other",
    "graduation_year": 2020,
    "degree_country": "IN",
    "years_experience": 5,
    "proof_of_funds": True,
    "de_recognition": "partial",
    "de_qualification_state_recognised": True,
}


@pytest.mark.parametrize(("offer", "section"), [("KR", "South Korea"), ("NZ", "New Zealand")])
def test_the_offer_countrys_section_comes_before_other_countries_sections(
    catalogue, offer, section
):
    order = sections_asked(catalogue, {**BASE, "job_offer_country": offer})
    assert section in order and "Germany" in order
    assert order.index(section) < order.index("Germany")


@pytest.mark.parametrize("offer", ["KR", "NZ", "none"])
@pytest.mark.parametrize("english", ["none", "B2", None])
def test_general_questions_are_never_asked_after_a_countrys_section(catalogue, offer, english):
    profile = {**BASE, "job_offer_country": offer, "english_level": english}
    countries = questionnaire.section_countries(catalogue)
    asked = questionnaire.walk(catalogue, profile, ON)
    places = [catalogue.question(k).section in countries for k in asked]
    first_country = places.index(True) if True in places else len(asked)
    assert all(places[first_country:]), [k for k in asked[first_country:]]


def test_sections_are_mapped_to_countries_by_name(catalogue):
    assert questionnaire.section_countries(catalogue) == {
        "China": "CN",
        "Germany": "DE",
        "Japan": "JP",
        "New Zealand": "NZ",
        "South Korea": "KR",
        "United Kingdom": "GB",
        "United States": "US",
    }


def test_the_back_link_follows_the_asked_order(client, catalogue):
    profile = {**BASE, "job_offer_country": "KR", "destination_countries": None}
    asked = questionnaire.walk(catalogue, profile, ON)
    answered = {k: profile.get(k) for k in asked[:-1]}
    for earlier, later in itertools.pairwise(asked[:-1]):
        previous = questionnaire.previous_question(
            catalogue, answered, catalogue.question(later), ON
        )
        assert previous is not None and previous.key == earlier
    assert questionnaire.previous_question(
        catalogue, answered, catalogue.question(asked[-1]), ON
    ) == catalogue.question(asked[-2])


def test_the_back_link_leads_to_the_question_asked_before_and_from_the_first_to_start(client, db):
    blue_card()
    assessment = make_assessment(citizenship=["IN"])
    page = client.get(q_url(assessment, "current_country")).content.decode()
    back = reverse("back", args=[assessment.token, "current_country"])
    assert f'<a class="back-link" href="{back}">Back</a>' in page
    assert client.get(back).url == q_url(assessment, "citizenship")
    assert client.get(reverse("back", args=[assessment.token, "citizenship"])).url == reverse(
        "start"
    )
    assert (
        client.get(reverse("back", args=[assessment.token, "no_such_question"])).status_code == 404
    )


# --- Honest progress --------------------------------------------------------------------------


def values(question: engine.QuestionRule) -> st.SearchStrategy[Any]:
    kind = question.kind
    if kind is Kind.BOOLEAN:
        strategy: st.SearchStrategy[Any] = st.booleans()
    elif kind in (Kind.CHOICE, Kind.ORDINAL):
        strategy = st.sampled_from([v for v, _ in question.choices])
    elif kind is Kind.INTEGER:
        low = int(question.min_value or 0)
        high = min(int(question.max_value or 60), max(low, ON.year))
        strategy = st.integers(low, high)
    elif kind in (Kind.MONEY, Kind.DECIMAL):
        strategy = st.sampled_from([Decimal(v) for v in ("5", "30", "50000", "90000", "6E7")])
    elif kind is Kind.COUNTRY:
        extras = [v for v, _ in question.choices]
        strategy = st.sampled_from([*extras, "IN", "CN", "DE", "KR", "NZ", "US", "GB", "JP"])
    elif question.choices:
        strategy = st.lists(
            st.sampled_from([v for v, _ in question.choices]), min_size=1, max_size=3
        ).map(tuple)
    else:
        strategy = st.sampled_from([("IN",), ("CN",), ("DE",), ("US", "IN"), ("KR",)])
    return st.one_of(st.none(), strategy)


def test_progress_never_promises_fewer_questions_than_are_asked_nor_goes_up(catalogue):
    profiles = st.fixed_dictionaries({q.key: values(q) for q in catalogue.questions})

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(profiles)
    def check(profile: dict[str, Any]) -> None:
        asked = questionnaire.walk(catalogue, profile, ON)
        answers: dict[str, Any] = {}
        before = None
        for step, key in enumerate(asked):
            at_most = questionnaire.progress(catalogue, answers, ON).at_most_left
            assert at_most >= len(asked) - step, (asked, step)
            assert before is None or at_most <= before
            before = at_most
            answers[key] = profile[key]
        assert questionnaire.progress(catalogue, answers, ON).at_most_left >= 0

    check()


def test_at_most_shrinks_as_a_walk_goes_on(catalogue):
    start = questionnaire.progress(catalogue, {}, ON).at_most_left
    picked = {"citizenship": ("IN",), "current_country": "IN", "destination_countries": ("GB",)}
    later = questionnaire.progress(catalogue, picked, ON).at_most_left
    assert 0 < later < start


# --- The live panel ---------------------------------------------------------------------------


def test_the_panel_names_routes_with_their_country_and_says_does_not_fit(client, db):
    blue_card()
    k_visa()
    assessment = make_assessment(
        citizenship=["CN"], current_country="IN", destination_countries=None
    )
    page = client.get(q_url(assessment, "stem_field")).content.decode()
    assert "EU Blue Card, Germany" in page and "K visa, China" in page
    assert "<strong>1</strong> does not fit" in page
    assert "ruled out" not in page
    assert "<details" in page and 'id="panel-routes"' in page


def test_the_panel_announces_only_the_counts_that_changed(client, db):
    blue_card()
    k_visa()
    assessment = make_assessment(
        citizenship=["IN"], current_country="IN", destination_countries=None
    )
    page = client.post(q_url(assessment, "stem_field"), {"answer": "no"}, **HTMX).content.decode()
    news = "1 fewer route may fit, 1 more route does not fit."
    assert f'<p id="panel-news" hx-swap-oob="innerHTML">{news}</p>' in page
    assert 'aria-live="polite"' not in page.split('id="panel-news"')[0]


def test_nothing_is_announced_when_no_count_changed(db):
    blue_card()
    book = load_rulebook()
    before = {"citizenship": ("IN",)}
    panel = questionnaire.route_panel(book, {**before, "age": 30}, ON, before)
    assert panel.news == ""


def test_the_panels_sentence_gets_plurals_right(db):
    blue_card()
    k_visa()
    book = load_rulebook()
    panel = questionnaire.route_panel(book, {"citizenship": ("DE", "CN")}, ON, {})
    assert panel.news == "2 fewer routes may fit, 2 more routes do not fit."


# --- Settle and return ------------------------------------------------------------------------


@pytest.fixture
def returning(db) -> Assessment:
    blue_card()
    k_visa()
    return make_assessment(citizenship=["IN"], current_country="IN", destination_countries=None)


def test_a_question_linked_from_results_says_so_and_goes_back_there(client, returning):
    url = q_url(returning, "stem_field", "?next=results")
    page = client.get(url).content.decode()
    results = reverse("results", args=[returning.token])
    assert f'<a class="back-link" href="{results}">Back to your results</a>' in page
    assert "Save and go back to your results" in page
    response = client.post(url, {"answer": "yes"})
    assert response.status_code == 302 and response["Location"] == results


def test_with_htmx_a_good_answer_from_results_redirects_the_browser_there(client, returning):
    response = client.post(
        q_url(returning, "stem_field", "?next=results"), {"answer": "yes"}, **HTMX
    )
    assert response["HX-Redirect"] == reverse("results", args=[returning.token])


def test_a_bad_answer_from_results_stays_on_the_question(client, returning):
    response = client.post(q_url(returning, "age", "?next=results"), {"answer": "old"})
    assert response.status_code == 200
    assert "Save and go back to your results" in response.content.decode()


def test_an_unknown_next_page_is_ignored(client, returning):
    response = client.post(q_url(returning, "stem_field", "?next=evil"), {"answer": "yes"})
    assert response["Location"] != "evil"
    assert response["Location"].startswith("/a/")


# --- Check page and results agree -------------------------------------------------------------


def test_a_dont_know_answer_that_decides_a_route_is_listed_on_the_check_page(client, catalogue):
    answers: dict[str, Any] = {
        **BASE,
        "job_offer_country": "none",
        "destination_countries": None,
        "german_level": None,
        "english_level": None,
    }
    deciding = {q.key for q in questionnaire.open_answers(catalogue, answers, ON).deciding}
    opportunity = next(r for r in catalogue.routes if r.slug == "de-opportunity-card")
    route_deciding = set(engine.deciding_questions(opportunity, answers, ON))
    assert route_deciding and route_deciding <= deciding
    stored = {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}
    assessment = make_assessment(**stored)
    page = client.get(reverse("check", args=[assessment.token])).content.decode()
    for key in route_deciding:
        assert (
            catalogue.question(key).label.replace("'", "&#x27;")
            in page.split("Questions we skipped")[0]
        )


def test_no_skipped_question_could_decide_any_route(catalogue):
    profiles = st.fixed_dictionaries({q.key: values(q) for q in catalogue.questions})

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(profiles, st.sets(st.sampled_from([q.key for q in catalogue.questions])))
    def check(profile: dict[str, Any], left_out: set[str]) -> None:
        answers = {k: v for k, v in profile.items() if k not in left_out}
        still = questionnaire.open_answers(catalogue, answers, ON)
        skipped = {q.key for q in still.skipped}
        for route in catalogue.routes:
            assert not skipped & set(engine.deciding_questions(route, answers, ON))
        assert not skipped & {q.key for q in still.deciding}

    check()


def test_the_flow_with_only_some_countries_still_settles_those_countries(catalogue):
    profile = {**BASE, "job_offer_country": "none", "destination_countries": ("GB",)}
    asked = questionnaire.walk(catalogue, profile, ON)
    given_answers = {k: profile.get(k) for k in asked}
    uk = dataclasses.replace(
        catalogue, routes=tuple(r for r in catalogue.routes if r.country == "GB")
    )
    short = [r.verdict for r in questionnaire.route_panel(uk, given_answers, ON).results]
    full = [r.verdict for r in questionnaire.route_panel(uk, profile, ON).results]
    assert short == full


# --- Focus ------------------------------------------------------------------------------------

CSS = (Path(__file__).resolve().parent.parent / "static/css/route-finder.css").read_text()


def css_rule(selector: str) -> str:
    match = re.search(rf"(^|,\s*){re.escape(selector)}\s*(,[^{{]*)?\{{([^}}]*)\}}", CSS, re.M)
    assert match, selector
    return match.group(3)


def test_the_focused_heading_and_error_summary_show_a_dark_focus_ring():
    for selector in (".question-heading:focus", ".error-summary:focus"):
        rule = css_rule(selector)
        assert "outline: 3px solid var(--text)" in rule and "outline: none" not in rule


def test_a_focused_button_is_dark_text_on_yellow_with_a_dark_outline():
    for selector in (".button:focus-visible", "a.button:visited:focus-visible"):
        rule = css_rule(selector)
        assert "color: var(--text)" in rule and "background: var(--focus)" in rule
        assert "outline: 3px solid var(--text)" in rule
