"""Advisers curate rules in the admin: clear errors, filters, and a group that may edit rules
and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from eligibility.models import Question, Requirement, Route
from tests.factories import RouteFactory, blue_card, requirement_form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def adviser(client):
    user = User.objects.create_user("ada", password="a-long-passphrase", is_staff=True)
    user.groups.add(Group.objects.get(name="Adviser"))
    client.force_login(user)
    return user


def route_form(route: Route, requirement: dict[str, str]) -> dict[str, str]:
    data = {
        "name": route.name,
        "slug": route.slug,
        "country": route.country.code,
        "status": route.status,
        "official_name": "",
        "summary": "",
        "official_url": "",
        "points_needed": "",
        "currency": route.currency,
        "last_verified_on": route.last_verified_on.isoformat(),
        "last_verified_by": route.last_verified_by,
        "review_interval_days": "90",
    }
    for prefix in ("requirements", "key_facts", "open_questions"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data |= {"requirements-TOTAL_FORMS": "1"}
    fields = requirement_form_fields(**requirement)
    data |= {f"requirements-0-{k}": str(v) for k, v in fields.items()}
    return data


def test_a_non_number_on_a_whole_number_question_gets_a_clear_field_error(client, adviser):
    route = RouteFactory()
    age = Question.objects.get(key="age")
    url = reverse("admin:eligibility_route_change", args=[route.pk])
    response = client.post(
        url,
        route_form(
            route,
            {
                "question": str(age.pk),
                "operator": "gte",
                "value": "abc",
            },
        ),
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert errors["value"] == [
        "“≥ abc” does not fit “How old are you?”: Enter the value as a whole number."
    ]
    assert not Requirement.objects.exists()


def test_an_ordering_operator_on_a_yes_no_question_is_refused(client, adviser):
    route = RouteFactory()
    funds = Question.objects.get(key="proof_of_funds")
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, {"question": str(funds.pk), "operator": "gt", "value": "yes"}),
    )
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "compares ordered values" in errors["value"][0]


def test_a_good_value_is_stored_as_the_question_kind(client, adviser):
    route = RouteFactory()
    rank = Question.objects.get(key="university_rank")
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, {"question": str(rank.pk), "operator": "in", "value": "top100, top200"}),
    )
    assert response.status_code == 302
    assert Requirement.objects.get().value == ["top100", "top200"]


def test_the_overdue_filter_lists_routes_past_their_review_date(client, adviser):
    RouteFactory(name="Fresh route", last_verified_on=dt.date.today())
    RouteFactory(name="Stale route", last_verified_on=dt.date(2020, 1, 1))
    response = client.get(reverse("admin:eligibility_route_changelist"), {"review": "overdue"})
    assert "Stale route" in response.text
    assert "Fresh route" not in response.text


def test_the_route_list_searches_names(client, adviser):
    blue_card()
    RouteFactory(name="Skilled Migrant Category")
    response = client.get(reverse("admin:eligibility_route_changelist"), {"q": "blue"})
    assert "EU Blue Card" in response.text
    assert "Skilled Migrant" not in response.text


def test_advisers_may_edit_rules_and_nothing_else(adviser):
    for model in ("route", "requirement", "question", "keyfact", "openquestion"):
        assert adviser.has_perm(f"eligibility.change_{model}")
    assert not adviser.has_perm("auth.change_user")
    assert not adviser.has_perm("eligibility.view_assessment")
    assert not adviser.has_perm("eligibility.view_answer")


def test_the_route_page_shows_inlines_for_requirements_facts_and_open_questions(client, adviser):
    route = blue_card()
    response = client.get(reverse("admin:eligibility_route_change", args=[route.pk]))
    assert response.status_code == 200
    assert 'value="50700"' in response.text
    assert "27 or 21 months?" in response.text
    assert "€75 visa, €100 permit" in response.text
