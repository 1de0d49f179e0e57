"""The results page in Chromium, as an applicant uses it to decide: best options first, the
routes a job offer would open, a settling question answered and straight back, two routes
picked and compared; on a phone and a desktop, with JavaScript on and off; no console error
and no axe-core violation of any impact."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from eligibility.models import Answer, Assessment
from tests.factories import blue_card, h1b, joint_route, unclear_k_visa

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Axe()
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def applicant(live_server: Any, core_questions: None, settings: Any) -> Assessment:
    """An Indian master's graduate without a job offer, who has not said how old they are."""
    settings.DEFAULT_COMPARISON = ("cn-k-visa", "us-h1b")
    blue_card()
    h1b()
    unclear_k_visa(met_text="Young talent (no published age limit)")
    joint_route(name="Job-seeker card", country="NZ")  # settled by answers alone
    assessment = Assessment.objects.create()
    for key, value in {
        "citizenship": ["IN"],
        "education_level": "master",
        "job_offer_country": "none",
    }.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def open_page(browser: Browser, *, javascript: bool, viewport: dict[str, int]) -> Page:
    context = browser.new_context(java_script_enabled=javascript, viewport=viewport)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


def assert_no_violations(page: Page) -> None:
    violations = AXE.run(page).response["violations"]
    assert violations == [], f"{page.url}: {[(v['id'], v['impact']) for v in violations]}"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_an_applicant_without_an_offer_decides_from_the_results(
    browser: Browser, live_server: Any, applicant: Assessment, javascript: bool, viewport: Any
) -> None:
    page = open_page(browser, javascript=javascript, viewport=viewport)
    results_url = live_server.url + reverse("results", args=[applicant.token])
    page.goto(results_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your results")

    # Best options first, each with its country, and the rule they are ranked by.
    best = page.locator("section", has=page.locator("#best-heading"))
    expect(best.locator(".best-option")).to_have_count(2)
    expect(best).to_contain_text("Job-seeker card, New Zealand")
    expect(best).to_contain_text("K visa, China")
    expect(best).to_contain_text("Routes that fit come before routes that may fit")

    # The Blue Card and the H-1B miss only a job offer: their own group, with the salary floor.
    offers = page.locator("section", has=page.locator("#group-with_offer"))
    expect(offers.locator("#route-de-blue-card")).to_contain_text(
        "Offered salary must be at least €50,700 a year"
    )
    expect(offers.locator("#route-us-h1b")).to_be_visible()

    # The K visa and the H-1B side by side by default; on a phone as cards.
    compare = page.locator("#compare")
    shown = compare.locator(".compare-wide" if viewport is DESKTOP else ".compare-narrow")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("K visa")
    expect(shown).to_contain_text("$215 registration")
    if javascript:
        assert_no_violations(page)

    # Pick two others and compare them.
    compare.get_by_role("checkbox", name="K visa, China").uncheck()
    compare.get_by_role("checkbox", name="EU Blue Card, Germany").check()
    compare.get_by_role("button", name="Compare these routes").click()
    expect(page).to_have_url(re.compile(r"compare=de-blue-card"))
    shown = page.locator("#compare").locator(
        ".compare-wide" if viewport is DESKTOP else ".compare-narrow"
    )
    expect(shown).to_contain_text("EU Blue Card")
    expect(shown).not_to_contain_text("K visa")

    # A settling question: answer it and come straight back to the results.
    page.goto(results_url)
    settle = page.locator("section", has=page.locator("#settle-heading"))
    settle.get_by_role("link", name="Is your highest qualification in science").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Is your highest qualification in science"
    )
    if javascript:
        assert_no_violations(page)
    page.get_by_label("Yes", exact=True).check()
    page.get_by_role("button", name="Save and go back to your results").click()
    expect(page).to_have_url(results_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your results")

    assert page.console_errors == []  # type: ignore[attr-defined]
    page.context.close()
