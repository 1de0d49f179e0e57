"""Advisers curate rules in the admin: clear errors, filters, and a group that may edit rules
and nothing else. A route's page lists its gates; each gate's page holds its dated values."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from eligibility.models import OpenQuestion, Question, Requirement, RequirementValue, Route
from tests.factories import (
    RequirementFactory,
    RequirementValueFactory,
    RouteFactory,
    adviser_user,
    blue_card,
    gate_form_fields,
    gate_page_data,
    posted_value,
    stored_gate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def adviser(client):
    user = adviser_user()
    client.force_login(user)
    return user


def route_form(
    route: Route,
    gates: list[dict[str, object]] = (),  # type: ignore[assignment]
    open_questions: list[dict[str, object]] = (),  # type: ignore[assignment]
    **changes: object,
) -> dict[str, str]:
    """What the route page posts: the route's fields with `changes`, new gates (gate inline)
    and new open questions; the route's stored gates, facts and open questions are left out."""
    data = {
        "name": route.name,
        "slug": route.slug,
        "country": route.country.code,
        "status": route.status,
        "official_name": "",
        "summary": "",
        "official_url": "",
        "opens_on": "",
        "closes_on": "",
        "points_needed": "",
        "currency": route.currency,
        "last_verified_on": route.last_verified_on.isoformat(),
        "last_verified_by": route.last_verified_by,
        "review_interval_days": "90",
        **{k: str(v) for k, v in changes.items()},
    }
    for prefix in ("requirements", "key_facts", "open_questions", "next_steps"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    data["requirements-TOTAL_FORMS"] = str(len(gates))
    for i, gate in enumerate(gates):
        data |= {f"requirements-{i}-{k}": str(v) for k, v in gate_form_fields(**gate).items()}
    data["open_questions-TOTAL_FORMS"] = str(len(open_questions))
    for i, item in enumerate(open_questions):
        fields = {
            "topic": "Timing",
            "order": "0",
            "text": "Is it still in force?",
            "show_if": "[]",
            "source_title": "Example Gazette",
            "source_url": "https://example.org/page",
            "source_as_of": "2026-11-28",
            **item,
        }
        data |= {f"open_questions-{i}-{k}": str(v) for k, v in fields.items()}
    return data


def add_gate(client, gate: dict[str, object], values: list[dict[str, object]]):
    return client.post(reverse("admin:eligibility_requirement_add"), gate_page_data(gate, values))


def change_gate(client, requirement: Requirement, gate: dict[str, object], values, initial=1):
    fields = {
        "route": requirement.route_id,
        "question": requirement.question_id,
        "operator": requirement.operator,
        **gate,
    }
    return client.post(
        reverse("admin:eligibility_requirement_change", args=[requirement.pk]),
        gate_page_data(fields, values, initial=initial),
    )


def value_errors(response) -> list[dict[str, list[str]]]:
    """The value inline's errors on each value form."""
    return response.context["inline_admin_formsets"][0].formset.errors


def value_set_errors(response) -> list[str]:
    """The value inline's errors about its values together (dates, none at all)."""
    return list(response.context["inline_admin_formsets"][0].formset.non_form_errors())


def age_gate(**values: object) -> Requirement:
    return RequirementFactory(
        route__status="draft", question=Question.objects.get(key="age"), operator="gte", **values
    )


# --- A gate's values -------------------------------------------------------------------------


def test_a_non_number_on_a_whole_number_question_gets_a_clear_field_error(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(
        client, {"route": route.pk, "question": age.pk, "operator": "gte"}, [{"value": "abc"}]
    )
    assert response.status_code == 200
    assert value_errors(response)[0]["value"] == [
        "“≥ abc” does not fit “How old are you?”: Enter the value as a whole number from 16 to 100."
    ]
    assert not Requirement.objects.exists()
    assert not RequirementValue.objects.exists()


def test_abc_on_a_number_gate_is_refused_and_the_stored_gate_stays_as_it_was(client, adviser):
    gate = age_gate(value=18)
    before = stored_gate(gate)
    response = change_gate(client, gate, {}, [posted_value(gate.values.get(), value="abc")])
    assert response.status_code == 200
    assert value_errors(response)[0]["value"] == [
        "“≥ abc” does not fit “How old are you?”: Enter the value as a whole number from 16 to 100."
    ]
    assert stored_gate(gate) == before


def test_an_ordering_operator_on_a_yes_no_question_is_refused(client, adviser):
    route = RouteFactory(status="draft")
    funds = Question.objects.get(key="proof_of_funds")
    response = add_gate(
        client, {"route": route.pk, "question": funds.pk, "operator": "gt"}, [{"value": "yes"}]
    )
    assert "compares ordered values" in value_errors(response)[0]["value"][0]
    assert not Requirement.objects.exists()


def test_a_good_value_is_stored_as_the_question_kind(client, adviser):
    route = RouteFactory(status="draft")
    rank = Question.objects.get(key="university_rank")
    response = add_gate(
        client,
        {"route": route.pk, "question": rank.pk, "operator": "in"},
        [{"value": "top100, top200"}],
    )
    assert response.status_code == 302
    assert RequirementValue.objects.get(requirement__route=route).value == ["top100", "top200"]


def test_a_value_is_checked_against_the_question_posted_with_it(client, adviser):
    """Changing a gate's question and its value together: the value fits the new question."""
    gate = age_gate(value=18)
    education = Question.objects.get(key="education_level")
    response = change_gate(
        client,
        gate,
        {"question": education.pk},
        [posted_value(gate.values.get(), value="bachelor")],
    )
    assert response.status_code == 302, value_errors(response)
    gate.refresh_from_db()
    assert (gate.question.key, gate.values.get().value) == ("education_level", "bachelor")


def test_a_gate_without_a_question_gets_an_error_not_a_server_error(client, adviser):
    route = RouteFactory(status="draft")
    response = add_gate(
        client, {"route": route.pk, "question": "", "operator": "gte"}, [{"value": "50"}]
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["question"]
    assert not Requirement.objects.exists()


def test_two_values_in_force_on_the_same_day_are_refused(client, adviser):
    gate = age_gate(value=18, effective_from=dt.date(2025, 1, 1))
    before = stored_gate(gate)
    response = change_gate(
        client,
        gate,
        {},
        [posted_value(gate.values.get()), {"value": "21", "effective_from": "2026-01-01"}],
    )
    assert response.status_code == 200
    assert value_set_errors(response) == [
        "Two values are in force from 01 Jan 2026: give the earlier one a last day before the "
        "next one starts."
    ]
    assert stored_gate(gate) == before


def test_two_values_without_a_first_day_are_refused(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(
        client,
        {"route": route.pk, "question": age.pk, "operator": "gte"},
        [{"value": "18"}, {"value": "21", "effective_until": "2030-12-31"}],
    )
    assert value_set_errors(response) == [
        "Two values are in force from the start: give the earlier one a last day before the "
        "next one starts."
    ]
    assert not Requirement.objects.exists()


def test_a_value_may_not_start_on_the_last_day_of_another(client, adviser):
    gate = age_gate(value=18, effective_until=dt.date(2026, 1, 1))
    before = stored_gate(gate)
    response = change_gate(
        client,
        gate,
        {},
        [posted_value(gate.values.get()), {"value": "21", "effective_from": "2026-01-01"}],
    )
    assert value_set_errors(response) == [
        "Two values are in force from 01 Jan 2026: give the earlier one a last day before the "
        "next one starts."
    ]
    assert stored_gate(gate) == before


def test_a_value_may_start_the_day_after_the_last_one_ends(client, adviser):
    gate = age_gate(value=18, effective_until=dt.date(2025, 12, 31))
    response = change_gate(
        client,
        gate,
        {},
        [posted_value(gate.values.get()), {"value": "21", "effective_from": "2026-01-01"}],
    )
    assert response.status_code == 302, value_set_errors(response)
    assert list(gate.values.values_list("value", flat=True)) == [18, 21]  # nulls first


def test_a_gate_with_no_values_is_refused(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(client, {"route": route.pk, "question": age.pk, "operator": "gte"}, [])
    assert value_set_errors(response) == [
        "Give the gate at least one value, or mark it unclear from a date."
    ]
    assert not Requirement.objects.exists()


def test_deleting_the_last_value_of_a_gate_is_refused(client, adviser):
    gate = age_gate(value=18)
    before = stored_gate(gate)
    response = change_gate(client, gate, {}, [posted_value(gate.values.get(), DELETE="on")])
    assert value_set_errors(response) == [
        "Give the gate at least one value, or mark it unclear from a date."
    ]
    assert stored_gate(gate) == before


def test_an_unclear_value_needs_a_note(client, adviser):
    gate = age_gate(value=18, effective_until=dt.date(2026, 12, 31))
    before = stored_gate(gate)
    unclear = {"value": "", "certainty": "unclear", "effective_from": "2027-01-01"}
    response = change_gate(client, gate, {}, [posted_value(gate.values.get()), unclear])
    assert response.status_code == 200
    assert value_errors(response)[1]["note"] == [
        "Say what is unclear, or what decides (a lottery, a quota, an approval)."
    ]
    assert stored_gate(gate) == before

    unclear["note"] = "The 2027 age limit is not yet published."
    response = change_gate(client, gate, {}, [posted_value(gate.values.get()), unclear])
    assert response.status_code == 302, value_errors(response)
    assert gate.values.get(effective_from=dt.date(2027, 1, 1)).value is None


def test_a_last_day_before_the_first_is_refused(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(
        client,
        {"route": route.pk, "question": age.pk, "operator": "gte"},
        [{"value": "18", "effective_from": "2026-01-01", "effective_until": "2025-12-31"}],
    )
    assert value_errors(response)[0]["effective_until"] == [
        "The last day in force is before the first."
    ]
    assert not Requirement.objects.exists()


def test_an_explanation_with_a_digit_is_refused_on_the_gate_page(client, adviser):
    gate = age_gate(value=18)
    before = stored_gate(gate)
    response = change_gate(
        client, gate, {"explanation": "At least 18 years old."}, [posted_value(gate.values.get())]
    )
    assert response.status_code == 200
    assert "may not carry numbers" in response.context["adminform"].form.errors["explanation"][0]
    assert stored_gate(gate) == before


# --- The route page --------------------------------------------------------------------------


def test_an_explanation_with_a_digit_is_refused_on_the_route_page(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    gate = {"question": age.pk, "operator": "gte", "explanation": "Aged 18 or over."}
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]), route_form(route, [gate])
    )
    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "may not carry numbers" in errors["explanation"][0]
    assert not Requirement.objects.exists()


def test_a_route_may_not_close_before_it_opens(client, adviser):
    route = RouteFactory(status="draft")
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, opens_on="2026-06-01", closes_on="2026-05-31"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["closes_on"] == [
        "The route closes before it opens."
    ]
    route.refresh_from_db()
    assert (route.opens_on, route.closes_on) == (None, None)


@pytest.mark.parametrize("interval", ["3000000", "3,000,000", "731", "0", "-5"])
def test_a_review_interval_out_of_range_is_refused(client, adviser, interval):
    route = RouteFactory(status="draft")
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, review_interval_days=interval),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["review_interval_days"]
    route.refresh_from_db()
    assert route.review_interval_days == 90


def test_a_review_interval_of_two_years_is_accepted(client, adviser):
    route = RouteFactory(status="draft")
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, review_interval_days="730"),
    )
    assert response.status_code == 302
    route.refresh_from_db()
    assert route.review_interval_days == 730


def test_a_show_if_value_that_does_not_fit_its_question_is_refused(client, adviser):
    route = RouteFactory(status="draft")
    show_if = json.dumps([{"question": "age", "operator": "gte", "value": "abc"}])
    response = client.post(
        reverse("admin:eligibility_route_change", args=[route.pk]),
        route_form(route, open_questions=[{"show_if": show_if}]),
    )
    assert response.status_code == 200
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "open_questions"
    )
    assert formset.errors[0]["show_if"] == [
        "“≥ abc” does not fit “How old are you?”: Enter the value as a whole number from 16 to 100."
    ]
    assert not OpenQuestion.objects.exists()


def test_an_ask_if_value_that_does_not_fit_its_question_is_refused(client, adviser):
    question = Question.objects.get(key="proof_of_funds")
    ask_if = json.dumps([{"question": "age", "operator": "gte", "value": "abc"}])
    response = client.post(
        reverse("admin:eligibility_question_change", args=[question.pk]),
        {
            "label": question.label,
            "short_label": question.short_label,
            "help_text": question.help_text,
            "kind": question.kind,
            "choices": "[]",
            "min_value": "",
            "max_value": "",
            "unit": "",
            "month_question": "",
            "section": question.section,
            "order": str(question.order),
            "ask_if": ask_if,
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ask_if"] == [
        "“≥ abc” does not fit “How old are you?”: Enter the value as a whole number from 16 to 100."
    ]
    question.refresh_from_db()
    assert question.ask_if == []


# --- Lists, permissions, pages ---------------------------------------------------------------


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
    for model in (
        "route",
        "requirement",
        "requirementvalue",
        "question",
        "keyfact",
        "openquestion",
    ):
        for action in ("add", "change", "delete"):
            assert adviser.has_perm(f"eligibility.{action}_{model}")
    assert not adviser.has_perm("auth.change_user")
    assert not adviser.has_perm("eligibility.view_assessment")
    assert not adviser.has_perm("eligibility.view_answer")


def test_the_route_page_shows_its_gates_facts_and_open_questions(client, adviser):
    route = blue_card()
    salary = route.requirements.get(question__key="offered_salary")
    response = client.get(reverse("admin:eligibility_route_change", args=[route.pk]))
    assert response.status_code == 200
    assert "50700 from 2026-01-01" in response.text
    assert reverse("admin:eligibility_requirement_change", args=[salary.pk]) in response.text
    assert "27 or 21 months?" in response.text
    assert "€75 visa, €100 permit" in response.text


def test_the_gate_page_shows_its_dated_values(client, adviser):
    gate = age_gate(value=18, effective_until=dt.date(2025, 12, 31))
    RequirementValueFactory(requirement=gate, value=21, effective_from=dt.date(2026, 1, 1))
    rank = RequirementFactory(
        route=gate.route,
        question=Question.objects.get(key="university_rank"),
        operator="in",
        value=["top100", "top200"],
    )
    response = client.get(reverse("admin:eligibility_requirement_change", args=[gate.pk]))
    assert response.status_code == 200
    assert 'value="18"' in response.text and 'value="21"' in response.text
    assert 'value="31/12/2025"' in response.text
    response = client.get(reverse("admin:eligibility_requirement_change", args=[rank.pk]))
    assert 'value="top100, top200"' in response.text


def test_an_unchanged_gate_page_saves_its_values_as_they_were(client, adviser):
    gate = RequirementFactory(
        route__status="draft",
        question=Question.objects.get(key="university_rank"),
        operator="in",
        value=["top100"],
    )
    before = stored_gate(gate)
    response = change_gate(client, gate, {}, [posted_value(gate.values.get())])
    assert response.status_code == 302
    assert stored_gate(gate) == before


def test_a_home_page_as_source_is_refused_with_a_message_and_nothing_is_saved(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(
        client,
        {"route": route.pk, "question": age.pk, "operator": "lte"},
        [{"value": "45", "source_url": "https://www.make-it-in-germany.com/"}],
    )
    assert response.status_code == 200
    assert "link the page that says it" in response.content.decode()
    assert not Requirement.objects.filter(route=route).exists()


@pytest.mark.parametrize(
    "applies_if",
    [
        '[{"question": "no_such_question", "operator": "eq", "value": 1}]',
        '[{"question": "age", "operator": "eq", "value": "old"}]',
        '{"question": "age"}',
        "[" * 500 + "]" * 500,
    ],
)
def test_an_applies_if_that_does_not_read_is_refused_and_nothing_is_saved(
    client, adviser, applies_if
):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    response = add_gate(
        client,
        {"route": route.pk, "question": age.pk, "operator": "lte", "applies_if": applies_if},
        [{"value": "45"}],
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Requirement.objects.filter(route=route).exists()


def test_a_gate_that_applies_only_abroad_is_saved_with_its_condition(client, adviser):
    route = RouteFactory(status="draft")
    age = Question.objects.get(key="age")
    condition = [{"question": "current_country", "operator": "ne", "value": "GB"}]
    response = add_gate(
        client,
        {
            "route": route.pk,
            "question": age.pk,
            "operator": "lte",
            "applies_if": json.dumps(condition),
        },
        [{"value": "45"}],
    )
    assert response.status_code == 302
    assert Requirement.objects.get(route=route).applies_if == condition
