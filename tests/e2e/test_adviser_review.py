"""Two advisers in Chromium change a published rule safely: Ada drafts the 2027 Blue Card
figure, previews it, sees its impact and may not publish her own draft; Bea, a reviewer,
publishes it; then Bea reverts it, which opens a draft for review again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from playwright.sync_api import Browser, Page, expect

from eligibility.models import Question, RequirementValue, Route, Scenario, ScenarioExpectation
from tests.e2e.test_applicant_flow import assert_accessible
from tests.factories import blue_card

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-passphrase"
# The admin's pages beyond the login are Django's own: checked for serious and critical
# violations; the login page and every applicant page for violations of any impact.
DJANGO_ADMIN = ("serious", "critical")


def _adviser(name: str, *, reviewer: bool) -> None:
    """The groups as migrations 0002 and 0007 make them (live_server flushes them)."""
    advisers, _ = Group.objects.get_or_create(name="Adviser")
    advisers.permissions.set(
        Permission.objects.filter(content_type__app_label="eligibility").exclude(
            codename="publish_route"
        )
    )
    user = User.objects.create_user(name, password=PASSWORD, is_staff=True)
    user.groups.add(advisers)
    if reviewer:
        reviewers, _ = Group.objects.get_or_create(name="Reviewer")
        reviewers.permissions.set(Permission.objects.filter(codename="publish_route"))
        user.groups.add(reviewers)


def _log_in(browser: Browser, base: str, name: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/admin/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Route Finder advisers: log in")
    assert_accessible(page)
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    return page


def _published_2027_values() -> list[Any]:
    route = Route.objects.get(slug="de-blue-card")
    return list(
        RequirementValue.objects.filter(
            requirement__route=route, effective_from=dt.date(2027, 1, 1)
        ).values_list("value", flat=True)
    )


def test_two_advisers_draft_preview_review_publish_and_revert(
    live_server: Any, core_questions: None, browser: Browser
) -> None:
    route = blue_card()
    scenario = Scenario.objects.create(
        name="An offer of €52,000 in 2027",
        on=dt.date(2027, 3, 1),
        answers={"citizenship": ["IN"], "job_offer_country": "DE", "offered_salary": 52000},
    )
    ScenarioExpectation.objects.create(scenario=scenario, route=route, verdict="fits")
    _adviser("ada", reviewer=False)
    _adviser("bea", reviewer=True)
    base = live_server.url

    # Ada opens a draft of the published route and gives it the 2027 figure.
    ada = _log_in(browser, base, "ada")
    ada.goto(f"{base}/admin/eligibility/route/{route.pk}/change/")
    ada.get_by_role("link", name="Edit in a draft").click()
    ada.get_by_role("button", name="Open a draft").click()
    expect(ada.locator(".messagelist")).to_contain_text("A draft of “EU Blue Card” is open")
    ada.get_by_role("link", name="New figures from a date").click()
    ada.get_by_label("In force from").fill("2027-01-01")
    ada.get_by_label("Source title").fill("Federal Gazette: 2027 thresholds")
    ada.get_by_label("Source page").fill("https://example.org/gazette/2027")
    ada.get_by_label("Source as of").fill("2026-11-20")
    ada.get_by_label("2. Every pathway: offered salary").fill("51000")
    assert_accessible(ada, impacts=DJANGO_ADMIN)
    ada.get_by_role("button", name="Save the new figures to the draft").click()
    expect(ada.locator(".messagelist")).to_contain_text("1 gate(s) have new figures")
    assert _published_2027_values() == []  # applicants still get the published rules

    # Preview: the scenario as an applicant would see it with the draft.
    ada.get_by_role("link", name="Preview").click()
    assert_accessible(ada, impacts=DJANGO_ADMIN)
    ada.get_by_label("Scenario").select_option(label="An offer of €52,000 in 2027")
    ada.get_by_role("button", name="Preview").click()
    expect(ada.get_by_role("heading", name="Preview: EU Blue Card")).to_be_visible()
    expect(ada.locator("main")).to_contain_text("51,000")
    ada.go_back()
    ada.go_back()

    # Impact: the scenario still passes; Ada may not publish her own draft.
    ada.get_by_role("link", name="Impact and publishing").click()
    expect(ada.locator("#content")).to_contain_text("Every scenario passes")
    expect(ada.get_by_role("alert")).to_contain_text("a second adviser must review")
    expect(ada.get_by_role("button", name="Publish this draft")).to_have_count(0)
    assert_accessible(ada, impacts=DJANGO_ADMIN)

    # Bea finds the draft in the review queue, checks its impact and publishes it.
    bea = _log_in(browser, base, "bea")
    bea.get_by_role("link", name="Review queue").click()
    assert_accessible(bea, impacts=DJANGO_ADMIN)
    bea.get_by_role("link", name="EU Blue Card (DE), draft").click()
    bea.get_by_role("link", name="Impact and publishing").click()
    expect(bea.locator("#content")).to_contain_text("Drafted by ada")
    bea.get_by_role("button", name="Publish this draft").click()
    expect(bea.locator(".messagelist")).to_contain_text("is published as revision 2")
    assert [str(v) for v in _published_2027_values()] == ["51000"]

    # The history names the gate and its dates, with old and new values; revert opens a draft.
    expect(bea.locator("#content")).to_contain_text("value from 2027-01-01")
    assert_accessible(bea, impacts=DJANGO_ADMIN)
    bea.get_by_role("button", name="Revert to revision 1 (opens a draft for review)").click()
    expect(bea.locator(".messagelist")).to_contain_text("A draft holds revision 1")
    assert [str(v) for v in _published_2027_values()] == ["51000"]  # until reviewed
    assert Route.objects.filter(draft_of=route).count() == 1
    assert Question.objects.filter(key="offered_salary").exists()
