"""Entering answers in Chromium on a phone, with JavaScript on and off: a salary typed the
German way is confirmed back before it is saved, the progress line never promises fewer
questions than are asked, and no page has an axe-core violation of any impact or a console
error."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from eligibility.models import Answer, Assessment
from tests.factories import blue_card, h1b, unclear_k_visa

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Axe()
PHONE = {"width": 390, "height": 844}
AT_MOST = re.compile(r"at most (\d+) questions? left, this one included")


def phone_page(browser: Browser, *, javascript: bool) -> tuple[Page, list[str]]:
    page = browser.new_context(java_script_enabled=javascript, viewport=PHONE).new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, errors


def assert_no_violations(page: Page) -> None:
    violations = AXE.run(page).response["violations"]
    assert violations == [], f"{page.url}: {[(v['id'], v['impact']) for v in violations]}"


def with_answers(**answers: Any) -> Assessment:
    assessment = Assessment.objects.create()
    for key, value in answers.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_salary_typed_the_german_way_is_confirmed_before_it_is_saved(
    browser: Browser, live_server: Any, core_questions: None, javascript: bool
) -> None:
    blue_card()
    assessment = with_answers(
        citizenship=["IN"], current_country="IN", job_offer_country="DE", education_level="master"
    )
    page, errors = phone_page(browser, javascript=javascript)
    page.goto(live_server.url + reverse("question", args=[assessment.token, "offered_salary"]))
    page.get_by_label("What annual gross salary does the job offer pay?").fill("52.000")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Did you mean €52,000 a year?")
    assert not Answer.objects.filter(assessment=assessment, question_key="offered_salary").exists()
    if javascript:
        assert_no_violations(page)
    page.get_by_label("€52,000 a year").check()
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", level=1)).not_to_have_text(re.compile("Did you mean"))
    saved = Answer.objects.get(assessment=assessment, question_key="offered_salary").value
    assert saved == "52000"
    page.goto(live_server.url + reverse("results", args=[assessment.token]))
    fits = page.locator("section", has=page.locator("#group-fits"))
    expect(fits).to_contain_text("EU Blue Card")  # €52,000 is above the €50,700 floor
    assert errors == []


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_the_progress_line_never_promises_fewer_questions_than_are_asked(
    browser: Browser, live_server: Any, core_questions: None, javascript: bool
) -> None:
    blue_card()
    h1b()
    unclear_k_visa()
    page, errors = phone_page(browser, javascript=javascript)
    page.goto(live_server.url + reverse("start"))
    page.get_by_role("button", name="Start now").click()
    promised: list[int] = []
    while page.get_by_role("heading", level=1).inner_text() != "Check your answers":
        match = AT_MOST.search(page.locator(".progress").inner_text())
        assert match, page.locator(".progress").inner_text()
        promised.append(int(match.group(1)))
        if javascript and len(promised) == 1:
            assert_no_violations(page)
        heading = page.get_by_role("heading", level=1).inner_text()
        page.get_by_role("button", name="I don't know").click()
        expect(page.get_by_role("heading", level=1)).not_to_have_text(heading)
        assert len(promised) < 60, "the walk does not end"
    asked = len(promised)
    # At each step, "at most N more" counts this question and every later one.
    assert all(n >= asked - i for i, n in enumerate(promised)), promised
    assert promised == sorted(promised, reverse=True), promised  # it never goes up
    assert errors == []
