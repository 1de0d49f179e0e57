"""The results PDF is asked for by the web process and made by a PDF worker: the applicant
sees it being prepared, gets the stored file, and nothing can make the workers render without
bound. (A real worker process over HTTP: tests/test_concurrency.py, on PostgreSQL.)"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from eligibility import pdf, pdf_jobs
from eligibility.models import Answer, Assessment, ResultsPdf
from tests.factories import (
    KeyFactFactory,
    OpenQuestionFactory,
    RequirementFactory,
    RouteFactory,
    blue_card,
    h1b,
    unclear_k_visa,
)
from tests.pdf_queue import work_off_pdf_queue

Status = ResultsPdf.Status


@pytest.fixture
def assessment(db):
    blue_card()
    h1b()
    unclear_k_visa()
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="age", value=30)
    return assessment


def ask(client, assessment, **data):
    return client.post(reverse("ask_for_pdf", args=[assessment.token]), data)


def ask_htmx(client, assessment, **data):
    return client.post(
        reverse("ask_for_pdf", args=[assessment.token]), data, headers={"HX-Request": "true"}
    )


def status_page(client, made: ResultsPdf, **params):
    url = reverse("pdf", args=[made.assessment.token, made.pk])
    return client.get(url, params)


def poll(client, made: ResultsPdf):
    """What htmx asks every second while the page waits."""
    return client.get(
        reverse("pdf", args=[made.assessment.token, made.pk]),
        {"waiting": "1"},
        headers={"HX-Request": "true"},
    )


def queued_tasks() -> int:
    return DBTaskResult.objects.ready().count()


# ---------------------------------------------------------------------------------------------
# Asking, waiting, downloading


def test_asking_queues_the_pdf_and_renders_nothing_in_the_request(client, assessment):
    response = ask(client, assessment)
    made = ResultsPdf.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pdf", args=[assessment.token, made.pk])
    assert made.status == Status.QUEUED and made.content is None
    assert queued_tasks() == 1


def test_while_it_is_prepared_the_page_says_so_with_a_refresh_link_and_polls_with_htmx(
    client, assessment
):
    ask(client, assessment)
    made = ResultsPdf.objects.get()
    page = status_page(client, made).content.decode()
    url = reverse("pdf", args=[assessment.token, made.pk])
    assert "Your PDF is being prepared." in page
    assert f'<a href="{url}">Check if your PDF is ready</a>' in page  # without JavaScript
    assert f'hx-get="{url}?waiting=1" hx-trigger="every 1s"' in page
    assert 'id="pdf-status" class="pdf-status" role="status"' in page


def test_htmx_asks_in_place_and_its_polls_get_nothing_to_swap_until_the_pdf_is_ready(
    client, assessment
):
    part = ask_htmx(client, assessment).content.decode()
    assert "Your PDF is being prepared." in part and "<html" not in part
    made = ResultsPdf.objects.get()
    # Nothing changed: nothing to swap, nothing for a screen reader to repeat.
    assert poll(client, made).status_code == 204
    work_off_pdf_queue()
    ready = poll(client, made)
    assert ready.status_code == 200
    assert "Your PDF is ready: " in ready.content.decode()


def test_when_ready_the_page_links_the_file_and_says_how_long_it_is(client, assessment):
    ask(client, assessment)
    work_off_pdf_queue()
    made = ResultsPdf.objects.get()
    page = status_page(client, made).content.decode()
    assert made.status == Status.READY and made.pages
    assert f"Your PDF is ready: {made.pages} pages." in page
    file_url = reverse("pdf_file", args=[assessment.token, made.pk])
    assert f'href="{file_url}"' in page
    download = client.get(file_url)
    assert download.content.startswith(b"%PDF-")
    assert download["Cache-Control"] == "private, no-store"


def test_a_file_not_yet_made_leads_to_its_status_page(client, assessment):
    ask(client, assessment)
    made = ResultsPdf.objects.get()
    response = client.get(reverse("pdf_file", args=[assessment.token, made.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("pdf", args=[assessment.token, made.pk])


def test_a_pdf_of_another_assessment_is_a_404(client, assessment):
    ask(client, assessment)
    made = ResultsPdf.objects.get()
    other = Assessment.objects.create()
    for name in ("pdf", "pdf_file"):
        assert client.get(reverse(name, args=[other.token, made.pk])).status_code == 404


def test_without_a_link_asked_for_the_pdf_holds_none(client, assessment):
    ask(client, assessment)
    ask(client, assessment, link="1")
    made = list(ResultsPdf.objects.order_by("pk"))
    assert made[0].resume_url == ""
    # The first was still being made: asking again got it, whatever was asked.
    assert len(made) == 1
    work_off_pdf_queue()
    ask(client, assessment, link="1")
    linked = ResultsPdf.objects.get(status=Status.QUEUED)
    assert linked.resume_url == f"http://testserver{reverse('resume', args=[assessment.token])}"


# ---------------------------------------------------------------------------------------------
# Made once, kept, deleted


def test_asking_again_for_the_same_results_serves_the_stored_file_without_rendering(
    client, assessment
):
    ask(client, assessment)
    work_off_pdf_queue()
    made = ResultsPdf.objects.get()
    again = ask(client, assessment)
    assert again["Location"] == reverse("pdf", args=[assessment.token, made.pk])
    assert ResultsPdf.objects.count() == 1
    assert queued_tasks() == 0


def test_changed_answers_make_a_new_pdf_and_the_old_one_says_it_is_outdated(client, assessment):
    ask(client, assessment)
    work_off_pdf_queue()
    old = ResultsPdf.objects.get()
    Answer.objects.filter(assessment=assessment, question_key="age").update(value=31)
    outdated = status_page(client, old).content.decode()
    assert "Your answers or the rules have changed since it was made" in outdated
    ask(client, assessment)
    new = ResultsPdf.objects.get()  # the superseded one is deleted
    assert new.pk != old.pk and new.status == Status.QUEUED
    assert new.fingerprint != old.fingerprint


def test_the_fingerprint_tells_apart_answers_rules_day_paper_and_link():
    base = ("v1", {"age": 30}, dt.date(2026, 12, 4), "A4", "")
    changed = [
        ("v2", {"age": 30}, dt.date(2026, 12, 4), "A4", ""),
        ("v1", {"age": 31}, dt.date(2026, 12, 4), "A4", ""),
        ("v1", {"age": 30}, dt.date(2026, 12, 5), "A4", ""),
        ("v1", {"age": 30}, dt.date(2026, 12, 4), "letter", ""),
        ("v1", {"age": 30}, dt.date(2026, 12, 4), "A4", "https://example.org/a/x/"),
    ]
    prints = {pdf_jobs.fingerprint(*made_of) for made_of in [base, *changed]}
    assert len(prints) == 6
    assert pdf_jobs.fingerprint(*base) == pdf_jobs.fingerprint("v1", {"age": 30}, *base[2:])


def test_twelve_asks_while_one_is_made_queue_one_pdf(client, assessment, settings):
    settings.PDF_REQUESTS_LIMIT = 12
    for _ in range(12):
        assert ask(client, assessment).status_code == 302
    assert ResultsPdf.objects.count() == 1
    assert queued_tasks() == 1


def test_the_database_allows_one_pdf_in_the_making_per_assessment(assessment):
    ResultsPdf.objects.create(assessment=assessment, fingerprint="a", page_size="A4")
    with pytest.raises(IntegrityError), transaction.atomic():
        ResultsPdf.objects.create(
            assessment=assessment, fingerprint="b", page_size="A4", status=Status.RENDERING
        )
    ResultsPdf.objects.create(
        assessment=assessment, fingerprint="c", page_size="A4", status=Status.READY
    )


def test_a_pdf_is_deleted_with_its_assessment(client, assessment):
    ask(client, assessment)
    work_off_pdf_queue()
    client.post(reverse("delete", args=[assessment.token]))
    assert not ResultsPdf.objects.exists()


def test_purge_deletes_pdfs_from_the_keep_period_on_and_keeps_younger_ones(assessment, settings):
    settings.PDF_KEEP_HOURS = 24
    now = timezone.now()
    ages = {"older": dt.timedelta(hours=24, seconds=1), "younger": dt.timedelta(hours=23)}
    for name, age in ages.items():
        made = ResultsPdf.objects.create(
            assessment=assessment, fingerprint=name, page_size="A4", status=Status.READY
        )
        ResultsPdf.objects.filter(pk=made.pk).update(requested_at=now - age)
    out = StringIO()
    call_command("purge_assessments", stdout=out)
    assert "Deleted 1 stored PDF older than 24 hours." in out.getvalue()
    assert list(ResultsPdf.objects.values_list("fingerprint", flat=True)) == ["younger"]


def test_purge_deletes_finished_pdf_tasks_as_old(client, assessment, settings):
    ask(client, assessment)
    work_off_pdf_queue()
    assert DBTaskResult.objects.finished().count() == 1
    pdf_jobs.purge_old_pdfs(now=timezone.now() + dt.timedelta(hours=23))
    assert DBTaskResult.objects.finished().count() == 1
    pdf_jobs.purge_old_pdfs(now=timezone.now() + dt.timedelta(hours=25))
    assert not DBTaskResult.objects.exists()


# ---------------------------------------------------------------------------------------------
# Bounds


def test_a_client_may_ask_for_pdfs_up_to_the_limit_and_is_then_told_to_wait(
    client, assessment, settings
):
    settings.PDF_REQUESTS_LIMIT = 3
    for _ in range(3):
        assert ask(client, assessment).status_code == 302
    refused = ask(client, assessment)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = refused.content.decode()
    assert "Too many PDFs asked for" in page
    assert "a PDF already made can still be downloaded" in page
    other = client.post(reverse("ask_for_pdf", args=[assessment.token]), REMOTE_ADDR="198.51.100.9")
    assert other.status_code == 302


def test_a_pdf_at_the_page_limit_is_made_and_one_page_over_it_is_refused_with_a_reason(
    client, assessment, settings
):
    ask(client, assessment)
    work_off_pdf_queue()
    pages = ResultsPdf.objects.get().pages
    assert pages and pages > 1
    Answer.objects.filter(assessment=assessment, question_key="age").update(value=31)
    settings.PDF_MOST_PAGES = pages
    ask(client, assessment)
    work_off_pdf_queue()
    assert ResultsPdf.objects.get().status == Status.READY
    Answer.objects.filter(assessment=assessment, question_key="age").update(value=32)
    settings.PDF_MOST_PAGES = pages - 1
    ask(client, assessment)
    work_off_pdf_queue()
    refused = ResultsPdf.objects.get()
    assert refused.status == Status.TOO_LONG and refused.pages == pages
    assert refused.content is None
    page = status_page(client, refused).content.decode()
    assert f"Your results would need {pages} pages as a PDF, more than the {pages - 1}" in page
    assert "Download" not in page


def test_a_page_far_too_long_is_refused_before_it_is_laid_out(assessment, settings, monkeypatch):
    settings.PDF_MOST_HTML_KB = 1
    laid_out = []
    monkeypatch.setattr(pdf, "HTML", lambda **kw: laid_out.append(kw))
    made = pdf_jobs.ask_for_pdf(assessment, "A4", "")
    work_off_pdf_queue()
    made.refresh_from_db()
    assert made.status == Status.TOO_LONG and made.pages is None
    assert laid_out == []


def test_the_same_too_long_pdf_is_not_rendered_again(client, assessment, settings):
    settings.PDF_MOST_HTML_KB = 1
    ask(client, assessment)
    work_off_pdf_queue()
    ask(client, assessment)
    assert ResultsPdf.objects.get().status == Status.TOO_LONG
    assert queued_tasks() == 0


def test_a_failed_rendering_says_so_and_may_be_asked_for_again(client, assessment, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a font went missing")

    monkeypatch.setattr(pdf, "lay_out", broken)
    ask(client, assessment)
    work_off_pdf_queue()
    failed = ResultsPdf.objects.get()
    assert failed.status == Status.FAILED
    page = status_page(client, failed).content.decode()
    assert "We could not make your PDF." in page
    monkeypatch.undo()
    ask(client, assessment)
    work_off_pdf_queue()
    assert ResultsPdf.objects.get().status == Status.READY


def test_a_rendering_whose_worker_died_stops_blocking_after_the_time_limit(
    client, assessment, settings
):
    settings.PDF_MOST_SECONDS = 60
    now = timezone.now()
    stuck = ResultsPdf.objects.create(
        assessment=assessment, fingerprint="x", page_size="A4", status=Status.RENDERING
    )
    limit = dt.timedelta(seconds=60) + pdf_jobs.STALE_AFTER
    ResultsPdf.objects.filter(pk=stuck.pk).update(started_at=now - limit + dt.timedelta(seconds=5))
    ask(client, assessment)
    assert list(ResultsPdf.objects.values_list("status", flat=True)) == [Status.RENDERING]
    ResultsPdf.objects.filter(pk=stuck.pk).update(started_at=now - limit - dt.timedelta(seconds=1))
    ask(client, assessment)
    # Failed, then deleted as superseded by the one now queued.
    assert list(ResultsPdf.objects.values_list("status", flat=True)) == [Status.QUEUED]
    assert not ResultsPdf.objects.filter(pk=stuck.pk).exists()


def test_a_pdf_no_worker_took_is_failed_after_a_quarter_of_an_hour(client, assessment):
    ask(client, assessment)
    waiting = ResultsPdf.objects.get()
    just_in_time = timezone.now() - pdf_jobs.MOST_QUEUED + dt.timedelta(seconds=5)
    ResultsPdf.objects.filter(pk=waiting.pk).update(requested_at=just_in_time)
    Answer.objects.filter(assessment=assessment, question_key="age").update(value=31)
    ask(client, assessment)
    assert ResultsPdf.objects.get().status == Status.QUEUED
    too_late = timezone.now() - pdf_jobs.MOST_QUEUED - dt.timedelta(seconds=1)
    ResultsPdf.objects.filter(pk=waiting.pk).update(requested_at=too_late)
    ask(client, assessment)
    # Failed, then deleted as superseded by the one now queued.
    assert not ResultsPdf.objects.filter(pk=waiting.pk).exists()
    now_queued = ResultsPdf.objects.get(status=Status.QUEUED)
    work_off_pdf_queue()  # the first one's task finds it gone and leaves it
    assert list(ResultsPdf.objects.values_list("pk", "status")) == [(now_queued.pk, Status.READY)]


def test_a_rendering_past_the_time_limit_is_stopped():
    started = time.monotonic()
    with pytest.raises(pdf_jobs.TookTooLong), pdf_jobs.time_limit(0.05):
        time.sleep(5)
    assert time.monotonic() - started < 1


def test_a_pdf_whose_assessment_was_deleted_before_the_worker_came_is_left_alone(
    client, assessment
):
    ask(client, assessment)
    assessment.delete()
    work_off_pdf_queue()
    assert not ResultsPdf.objects.exists()
    assert DBTaskResult.objects.successful().count() == 1


# ---------------------------------------------------------------------------------------------
# The worker


def test_a_worker_holding_too_much_memory_stops_after_the_pdf_it_is_making(client, assessment):
    for age in (30, 31):
        Answer.objects.filter(assessment=assessment, question_key="age").update(value=age)
        other = Assessment.objects.create()
        Answer.objects.create(assessment=other, question_key="age", value=age)
        ask(client, other)
    work_off_pdf_queue(most_mb=1)
    assert ResultsPdf.objects.filter(status=Status.READY).count() == 1
    assert ResultsPdf.objects.filter(status=Status.QUEUED).count() == 1


def test_the_web_process_never_imports_weasyprint():
    code = (
        "import django, sys; django.setup(); "
        "from django.urls import resolve; import eligibility.urls, eligibility.views_pdf, "
        "eligibility.pdf_jobs; print('weasyprint' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "eligibility.settings", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------------------------
# Queries


def assessment_among_routes(count: int) -> Assessment:
    """An assessment with one answer, among `count` routes."""
    for _ in range(count):
        route = RouteFactory()
        RequirementFactory.create_batch(2, route=route)
        KeyFactFactory(route=route)
        OpenQuestionFactory(route=route)
    assessment = Assessment.objects.create()
    Answer.objects.create(assessment=assessment, question_key="age", value=30)
    return assessment


@pytest.mark.parametrize("count", [1, 13])
def test_asking_and_polling_take_the_same_queries_whatever_the_number_of_routes(
    db, client, django_assert_num_queries, count
):
    assessment = assessment_among_routes(count)
    ask(client, assessment)  # loads the rules into the cache
    ResultsPdf.objects.all().delete()
    DBTaskResult.objects.all().delete()
    # The assessment; close abandoned ones (2); the answers; the same one; one pending; delete
    # superseded ones; savepoint, insert, release; queue the task.
    with django_assert_num_queries(11):
        ask(client, assessment)
    made = ResultsPdf.objects.select_related("assessment").get()
    with django_assert_num_queries(1):
        assert poll(client, made).status_code == 204


@pytest.mark.parametrize("count", [1, 13])
def test_making_a_pdf_takes_the_same_queries_whatever_the_number_of_routes(
    db, client, django_assert_num_queries, count
):
    assessment = assessment_among_routes(count)
    made = pdf_jobs.ask_for_pdf(assessment, "A4", "")
    # Claim, read, the answers, store (the rules were cached when it was asked for).
    with django_assert_num_queries(4):
        pdf_jobs.render_results_pdf.call(made.pk)
    made.refresh_from_db()
    assert made.status == Status.READY
