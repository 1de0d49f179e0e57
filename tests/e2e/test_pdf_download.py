"""Download the adviser's PDF from the results page in Chromium, with JavaScript on and off,
with and without the link back to the live result."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Browser
from pypdf import PdfReader

from eligibility.models import Answer, Assessment
from tests.factories import blue_card

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("with_link", [False, True], ids=["no-link", "with-link"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js-on", "js-off"])
def test_download_pdf_saves_the_results_as_a_dated_pdf(
    browser: Browser, live_server: Any, core_questions: None, javascript: bool, with_link: bool
) -> None:
    blue_card()
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="job_offer_country", value="DE")
    Answer.objects.create(assessment=assessment, question_key="offered_salary", value=None)

    context = browser.new_context(java_script_enabled=javascript, accept_downloads=True)
    try:
        page = context.new_page()
        page.goto(live_server.url + reverse("results", args=[assessment.token]))
        if with_link:
            page.get_by_label("Print the private link").check()
        with page.expect_download() as caught:
            page.get_by_role("button", name="Download a PDF for your adviser").click()
        download = caught.value
        assert download.failure() is None
        today = timezone.localdate().isoformat()
        assert download.suggested_filename == f"route-finder-results-{today}.pdf"
        text = "".join(p.extract_text() for p in PdfReader(download.path()).pages)
        assert "EU Blue Card" in text
        assert "May fit" in text
        assert (assessment.token in text.replace("\n", "")) is with_link
        # The page stayed where it was: the link downloads, htmx did not swap anything in.
        assert page.url.endswith(reverse("results", args=[assessment.token]))
    finally:
        context.close()
