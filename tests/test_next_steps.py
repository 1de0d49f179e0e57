"""Each route tells applicants what to do next: two to four steps with the official page for
each, kept as sourced rules data that advisers edit on drafts, like key facts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from eligibility import catalogue, checks
from eligibility.advisers import drafts, history
from eligibility.models import MOST_NEXT_STEPS, NextStep, Route
from eligibility.rules import load_rulebook
from tests.factories import NextStepFactory, RouteFactory, adviser_user
from tests.test_admin import route_form

pytestmark = pytest.mark.django_db


def a_step(route: Route, **fields: object) -> NextStep:
    """An unsaved step with good fields, but `fields`."""
    values = {
        "route": route,
        "order": 1,
        "text": "Your employer applies for you.",
        "url": "https://www.example.gov/apply/route",
        "source_title": "Example Gazette",
        "source_url": "https://example.org/source",
        "source_as_of": dt.date(2026, 11, 28),
        **fields,
    }
    return NextStep(**values)


def refusal(step: NextStep) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        step.full_clean()
    return caught.value.message_dict


# --- What a step may hold ---------------------------------------------------------------------


def test_a_route_may_have_six_next_steps_and_a_seventh_is_refused():
    route = RouteFactory()
    NextStepFactory.create_batch(MOST_NEXT_STEPS - 1, route=route)
    sixth = a_step(route, order=100)
    sixth.full_clean()
    sixth.save()
    assert "at most 6 next steps" in refusal(a_step(route, order=101))["__all__"][0]


def test_an_https_official_page_is_accepted_and_an_http_one_refused():
    route = RouteFactory()
    a_step(route, url="https://www.example.gov/apply").full_clean()
    assert "url" in refusal(a_step(route, url="http://www.example.gov/apply"))


def test_an_https_source_is_accepted_and_an_http_one_refused():
    route = RouteFactory()
    a_step(route, source_url="https://example.org/page").full_clean()
    assert "source_url" in refusal(a_step(route, source_url="http://example.org/page"))


def test_a_source_as_of_today_is_accepted_and_one_as_of_tomorrow_refused():
    route = RouteFactory()
    today = timezone.localdate()
    a_step(route, source_as_of=today).full_clean()
    tomorrow = today + dt.timedelta(days=1)
    assert "source_as_of" in refusal(a_step(route, source_as_of=tomorrow))


def test_a_step_without_words_is_refused():
    assert "text" in refusal(a_step(RouteFactory(), text="   "))


def test_a_site_home_page_is_not_an_official_page_for_a_step():
    assert "url" in refusal(a_step(RouteFactory(), url="https://www.example.gov/"))


# --- Advisers edit them on drafts -------------------------------------------------------------


@pytest.fixture
def adviser(client):
    user = adviser_user()
    client.force_login(user)
    return user


def route_page(route: Route, steps: list[dict[str, str]]) -> dict[str, str]:
    """What the route page posts with new next steps and no other rows."""
    data = route_form(route)
    data["next_steps-TOTAL_FORMS"] = str(len(steps))
    for i, step in enumerate(steps):
        fields = {
            "order": str(i + 1),
            "text": f"Step {i + 1}: your employer applies.",
            "url": "https://www.example.gov/apply/route",
            "source_title": "Example Gazette",
            "source_url": "https://example.org/page",
            "source_as_of": "2026-11-28",
            **step,
        }
        data |= {f"next_steps-{i}-{k}": v for k, v in fields.items()}
    return data


def save(client, route: Route, steps: list[dict[str, str]]):
    url = reverse("admin:eligibility_route_change", args=[route.pk])
    return client.post(url, route_page(route, steps))


def step_errors(response) -> list[str]:
    formset = next(
        f.formset
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "next_steps"
    )
    return [str(e) for e in formset.non_form_errors()]


def test_an_adviser_saves_six_steps_on_a_draft_in_their_order(client, adviser):
    route = RouteFactory(status=Route.Status.DRAFT)
    response = save(client, route, [{"order": str(7 - n)} for n in range(1, 7)])
    assert response.status_code == 302
    assert [s.order for s in route.next_steps.order_by("order")] == [1, 2, 3, 4, 5, 6]


def test_an_adviser_cannot_save_seven_steps(client, adviser):
    route = RouteFactory(status=Route.Status.DRAFT)
    response = save(client, route, [{} for _ in range(7)])
    assert response.status_code == 200
    assert any("at most 6" in error for error in step_errors(response))
    assert not route.next_steps.exists()


def test_two_steps_in_the_same_place_are_refused(client, adviser):
    route = RouteFactory(status=Route.Status.DRAFT)
    response = save(client, route, [{"order": "2"}, {"order": "2"}])
    assert step_errors(response) == [
        "Two next steps have the same place in the order (2): give each its own."
    ]
    assert not route.next_steps.exists()


def test_an_http_page_in_the_admin_is_refused_at_its_field(client, adviser):
    route = RouteFactory(status=Route.Status.DRAFT)
    response = save(client, route, [{"url": "http://www.example.gov/apply/route"}])
    assert response.status_code == 200
    assert not route.next_steps.exists()
    assert "next step 1 — official page" in response.context["error_rows"]


def test_the_steps_of_a_published_route_are_shown_but_not_editable(client, adviser):
    route = RouteFactory()
    NextStepFactory(route=route, text="Your employer registers you.")
    response = client.get(reverse("admin:eligibility_route_change", args=[route.pk]))
    page = response.content.decode()
    assert "Your employer registers you." in page
    assert 'name="next_steps-0-text"' not in page


def test_a_saved_step_is_in_the_audit_log_of_its_route():
    route = RouteFactory(status=Route.Status.DRAFT)
    step = NextStepFactory(route=route)
    entry = LogEntry.objects.get_for_object(step).get()
    assert entry.additional_data == {"route_id": route.pk}


# --- They travel with the route ---------------------------------------------------------------


def test_the_rules_give_each_route_its_steps_in_order_with_their_sources():
    route = RouteFactory()
    NextStepFactory(route=route, order=2, text="Then apply.")
    NextStepFactory(route=route, order=1, text="First get an offer.", source_title="Gazette 1")
    (rules,) = load_rulebook().routes
    assert [s.text for s in rules.next_steps] == ["First get an offer.", "Then apply."]
    assert rules.next_steps[0].source.title == "Gazette 1"
    assert rules.next_steps[0].url == "https://www.example.gov/apply/route"


def test_an_export_with_steps_imports_into_an_empty_database_and_exports_identically():
    route = RouteFactory()
    NextStepFactory(route=route, order=1, text="First.")
    NextStepFactory(route=route, order=2, text="Second.", source_as_of_approximate=True)
    exported = catalogue.export_catalogue()
    Route.objects.all().delete()
    catalogue.import_catalogue(exported)
    assert catalogue.export_catalogue() == exported
    assert [s.text for s in Route.objects.get().next_steps.order_by("order")] == [
        "First.",
        "Second.",
    ]


def test_an_imported_step_with_an_http_page_loads_nothing_and_names_the_step():
    route = RouteFactory()
    NextStepFactory(route=route)
    data = catalogue.export_data()
    Route.objects.all().delete()
    data["routes"][0]["next_steps"][0]["url"] = "http://www.example.gov/apply"
    with pytest.raises(catalogue.CatalogueError, match="next step 1"):
        catalogue.import_catalogue(catalogue.dump(data))
    assert not Route.objects.exists()


def test_a_draft_copies_the_steps_and_publishing_carries_an_edited_one():
    ada, bea = adviser_user("ada"), adviser_user("bea", reviewer=True)
    route = RouteFactory()
    NextStepFactory(route=route, order=1, text="Get an offer.")
    NextStepFactory(route=route, order=2, text="Apply at the embassy.")
    draft = drafts.open_draft(route, ada)
    assert [s.text for s in draft.next_steps.order_by("order")] == [
        "Get an offer.",
        "Apply at the embassy.",
    ]
    draft.next_steps.filter(order=2).update(text="Apply online.")
    revision = drafts.publish(draft, bea)
    assert [s.text for s in route.next_steps.order_by("order")] == [
        "Get an offer.",
        "Apply online.",
    ]
    changes = history.changes(route.revisions.get(number=1).snapshot, revision.snapshot)
    assert [(c.where, c.what, c.old, c.new) for c in changes] == [
        ("Next step 2", "text", "Apply at the embassy.", "Apply online.")
    ]


def test_the_history_names_an_added_and_a_removed_step_by_its_place():
    step = {"text": "Apply.", "url": "https://x.gov/a", "source": {"title": "T"}}
    added = history.changes({"next_steps": [step]}, {"next_steps": [step, step]})
    removed = history.changes({"next_steps": [step, step]}, {"next_steps": [step]})
    assert [(c.where, c.what) for c in added] == [("Next step 2", "added")]
    assert [(c.where, c.what) for c in removed] == [("Next step 2", "removed")]


# --- Checks ------------------------------------------------------------------------------------


def test_a_route_without_steps_is_a_warning_not_a_problem():
    bare = RouteFactory(slug="bare", official_url="https://www.example.gov/route")
    with_steps = RouteFactory(slug="stepped", official_url="https://www.example.gov/route")
    NextStepFactory(route=with_steps)
    assert checks.catalogue_problems(dt.date(2026, 11, 28)) == []
    assert checks.catalogue_warnings() == [checks.route_warning(bare)]


def test_check_catalogue_prints_the_warning_and_still_succeeds(capsys):
    from django.core.management import call_command

    RouteFactory(slug="bare", official_url="https://www.example.gov/route")
    call_command("check_catalogue", "--on", "2026-11-28")
    out = capsys.readouterr().out
    assert "Warning: bare (published): it has no next steps" in out
    assert "The catalogue has no problems" in out


def test_a_step_citing_a_source_newer_than_the_routes_last_check_is_a_problem():
    route = RouteFactory(slug="late", official_url="https://www.example.gov/route")
    NextStepFactory(route=route, order=3, source_as_of=route.last_verified_on + dt.timedelta(1))
    (problem,) = checks.catalogue_problems(route.last_verified_on)
    assert problem.startswith("late (published), next step 3: the source is as of")


# --- The catalogue's steps ----------------------------------------------------------------------

ROUTES = catalogue.parse(catalogue.CATALOGUE_PATH.read_text(encoding="utf-8"))["routes"]


@pytest.mark.parametrize("route", ROUTES, ids=[r["slug"] for r in ROUTES])
def test_every_catalogue_route_has_two_to_four_steps_each_with_https_pages_and_a_source(route):
    steps = route.get("next_steps") or []
    assert 2 <= len(steps) <= 4
    for step in steps:
        assert step["text"].strip()
        assert step["url"].startswith("https://")
        assert step["source"]["title"].strip()
        assert step["source"]["url"].startswith("https://")
        assert step["source"]["as_of"] <= route["last_verified_on"]


def test_the_k_visa_steps_say_where_to_apply_is_unpublished_and_give_no_figures():
    (k_visa,) = [r for r in ROUTES if r["slug"] == "cn-k"]
    words = " ".join(step["text"] for step in k_visa["next_steps"])
    assert "has not been published" in words
    assert "embassy or consulate" in words
    assert not re.search(r"\d", words)


# --- Admin pages without JavaScript -----------------------------------------------------------


def test_the_admin_login_page_has_a_main_heading(client):
    page = client.get(reverse("admin:login")).content.decode()
    assert page.count("<h1") == 1
    assert "<h1>Route Finder advisers: log in</h1>" in page


def test_the_theme_toggle_has_a_name_without_javascript(client, adviser):
    page = client.get(reverse("admin:index")).content.decode()
    (button,) = re.findall(r"<button[^>]*theme-toggle[^>]*>", page)
    assert 'title="Toggle theme"' in button
