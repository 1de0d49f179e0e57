"""A new applicant, in Chromium, from the start page to results: with JavaScript on and off,
changing an answer from the summary, a bad value rejected, and axe-core on every page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.factories import blue_card, h1b, unclear_k_visa

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Axe()


def known_routes() -> None:
    """Blue Card (a German offer paying enough), H-1B (a degree and a US offer) and a K visa
    whose only rule is unclear, so it can only ever "may fit"."""
    blue_card()
    h1b()
    unclear_k_visa(met_text="Young talent (no published age limit)")


def assert_accessible(page: Page, *, impacts: tuple[str, ...] = ()) -> None:
    """No axe-core violation of any impact (or only of `impacts`, for the admin's own pages,
    which Django draws). axe runs inside the page, so with JavaScript off there is nothing to
    check it with; the server sends the same markup either way, and the walk with JavaScript
    on checks it."""
    results = AXE.run(page)
    found = [v for v in results.response["violations"] if not impacts or v["impact"] in impacts]
    assert found == [], f"{page.url}: " + results.generate_report()


def choose(page: Page, label: str) -> None:
    page.get_by_label(label, exact=True).check()


def cont(page: Page) -> None:
    page.get_by_role("button", name="Continue").click()


def answer_citizenship(page: Page, code: str) -> None:
    """Citizenship, then where the applicant lives, then every country (none ticked)."""
    expect_question(page, "Which countries are you a citizen of?")
    page.get_by_label("Which countries are you a citizen of?").select_option(code)
    cont(page)
    expect_question(page, "Which country do you live in now?")
    page.get_by_label("Which country do you live in now?").select_option(code)
    cont(page)
    expect_question(page, "Which countries would you consider moving to?")
    cont(page)


def expect_question(page: Page, heading: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def walk_to_results(page: Page, base: str, *, javascript: bool) -> None:
    def check_accessibility() -> None:
        if javascript:
            assert_accessible(page)

    page.goto(base)
    expect(page).to_have_title(re.compile("Which skilled-work visa routes fit you"))
    check_accessibility()
    page.get_by_role("button", name="Start now").click()

    # Citizenship comes first: a citizen of a route's country needs no visa there.
    expect_question(page, "Which countries are you a citizen of?")
    expect(page.locator("#panel-counts")).to_contain_text("3 may fit")
    check_accessibility()
    page.get_by_label("Which countries are you a citizen of?").select_option("IN")
    page.get_by_label("Another citizenship, if you have one (optional)").select_option("BR")
    cont(page)

    # Where they live and the countries they would consider come next, for everyone.
    expect_question(page, "Which country do you live in now?")
    page.get_by_label("Which country do you live in now?").select_option("IN")
    cont(page)
    expect_question(page, "Which countries would you consider moving to?")
    check_accessibility()
    cont(page)  # none ticked: every country

    expect_question(page, "What is your highest qualification?")
    check_accessibility()
    if javascript:
        page.evaluate("window.stillTheSamePage = true")
    choose(page, "Master's degree")
    cont(page)

    expect_question(page, "Do you have a job offer? If so, in which country?")
    expect(page).to_have_url(re.compile(r"/q/job_offer_country/$"))
    if javascript:
        assert page.evaluate("window.stillTheSamePage") is True  # swapped by htmx, not reloaded
        expect(page.locator("#step-heading")).to_be_focused()
    # Back and forward work on the pushed URLs, and show the saved answer.
    page.go_back()
    expect_question(page, "What is your highest qualification?")
    expect(page.get_by_label("Master's degree", exact=True)).to_be_checked()
    page.go_forward()
    expect_question(page, "Do you have a job offer? If so, in which country?")
    check_accessibility()
    page.get_by_label("Do you have a job offer? If so, in which country?").select_option("DE")
    cont(page)

    expect_question(page, "What annual gross salary does the job offer pay?")
    expect(page.locator("#panel-counts")).to_contain_text("1 does not fit")
    expect(page.locator("#panel-routes")).to_contain_text("H-1B")

    # A bad value: an error summary linked to the field, the value kept, nothing lost.
    field = page.get_by_label("What annual gross salary does the job offer pay?")
    field.fill("lots")
    cont(page)
    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Enter your offered salary as an amount")
    expect(field).to_have_value("lots")
    if javascript:
        expect(summary).to_be_focused()
    check_accessibility()
    summary.get_by_role("link").click()
    expect(field).to_be_focused()
    field.fill("60000")
    cont(page)

    # Age cannot change any verdict (the K visa's age rule is unclear), so it is skipped.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(page).to_have_url(re.compile(r"/check/$"))
    for shown in ("India and Brazil", "Master's degree", "Germany", "60,000"):
        expect(page.locator("main")).to_contain_text(shown)
    check_accessibility()

    # Change one answer from the summary: the others stay, and we come back here.
    page.get_by_role("link", name="Change what is your highest qualification?").click()
    expect(page.get_by_label("Master's degree", exact=True)).to_be_checked()
    choose(page, "Doctorate (PhD)")
    page.get_by_role("button", name="Save and go back to your answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    for shown in ("Doctorate (PhD)", "Germany", "60,000"):
        expect(page.locator("main")).to_contain_text(shown)

    page.get_by_role("link", name="See your results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your results")
    expect(page.locator("#group-fits")).to_have_text("Fits (1)")
    fits = page.locator("section", has=page.locator("#group-fits"))
    expect(fits).to_contain_text("EU Blue Card")
    may_fit = page.locator("section", has=page.locator("#group-may_fit"))
    expect(may_fit).to_contain_text("K visa")
    # The H-1B misses only a US job offer: it is open to them with one, not ruled out.
    with_offer = page.locator("section", has=page.locator("#group-with_offer"))
    expect(with_offer).to_contain_text("H-1B")
    expect(page.locator("#group-does_not_fit")).to_have_count(0)
    page.get_by_text("Details for EU Blue Card").click()
    expect(page.locator("#route-de-blue-card")).to_contain_text(
        "Offered salary must be at least €50,700 a year"
    )
    check_accessibility()


def test_a_new_applicant_reaches_results_with_javascript(
    page: Page, live_server: Any, core_questions: None
) -> None:
    known_routes()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    walk_to_results(page, live_server.url, javascript=True)
    assert console_errors == []  # no script or style refused by the CSP, no htmx error


def test_a_new_applicant_reaches_results_without_javascript(
    browser: Browser, live_server: Any, core_questions: None
) -> None:
    known_routes()
    context = browser.new_context(java_script_enabled=False)
    try:
        walk_to_results(context.new_page(), live_server.url, javascript=False)
    finally:
        context.close()


def test_i_dont_know_then_deleting_answers_asks_first_and_the_link_is_dead(
    page: Page, live_server: Any, core_questions: None
) -> None:
    known_routes()
    page.goto(live_server.url)
    page.get_by_role("button", name="Start now").click()
    answer_citizenship(page, "IN")
    choose(page, "Bachelor's degree")
    cont(page)
    expect_question(page, "Do you have a job offer? If so, in which country?")
    page.get_by_role("button", name="I don't know").click()  # through htmx
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your answers")
    expect(page.locator("main")).to_contain_text("I don't know")
    resume = page.locator(".resume-link a").inner_text()
    page.get_by_role("link", name="Delete my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete your answers?")
    assert_accessible(page)
    page.get_by_role("button", name="Yes, delete my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers are deleted")
    assert_accessible(page)
    response = page.goto(resume)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page)


def test_a_question_can_be_answered_with_the_keyboard_alone(
    page: Page, live_server: Any, core_questions: None
) -> None:
    known_routes()
    page.goto(live_server.url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.get_by_role("button", name="Start now").focus()
    page.keyboard.press("Enter")
    expect_question(page, "Which countries are you a citizen of?")
    page.wait_for_load_state()  # htmx takes over the form once the page has loaded
    citizenship = page.get_by_label("Which countries are you a citizen of?")
    citizenship.focus()
    citizenship.select_option("IN")  # a native select: the keyboard opens and picks from it
    page.keyboard.press("Tab")  # to the optional second citizenship
    expect(page.get_by_label("Another citizenship, if you have one (optional)")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")
    expect_question(page, "Which country do you live in now?")
    expect(page.locator("#step-heading")).to_be_focused()  # swapped in by htmx
    page.keyboard.press("Tab")
    residence = page.get_by_label("Which country do you live in now?")
    expect(residence).to_be_focused()
    residence.select_option("IN")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect_question(page, "Which countries would you consider moving to?")
    expect(page.locator("#step-heading")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("China")).to_be_focused()
    page.keyboard.press("Space")  # a checkbox ticks with the space bar
    expect(page.get_by_label("China")).to_be_checked()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Continue").focus()
    page.keyboard.press("Enter")
    expect_question(page, "What is your highest qualification?")
    expect(page.locator("#step-heading")).to_be_focused()
    page.get_by_label("No formal qualification", exact=True).focus()
    for _ in range(4):
        page.keyboard.press("ArrowDown")  # radios move with the arrow keys
    expect(page.get_by_label("Master's degree", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")
    expect_question(page, "Do you have a job offer? If so, in which country?")
    expect(page.locator("#step-heading")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Do you have a job offer? If so, in which country?")).to_be_focused()
