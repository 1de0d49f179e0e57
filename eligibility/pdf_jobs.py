"""Asking for the results PDF. A web process never renders one: it records what was asked for
(a ResultsPdf) and queues a task; a PDF worker (`manage.py pdf_worker`, started by
`make worker`) renders it at lower priority and stores the file. Asking again with the same
answers, rules, day, paper and link choice gets the stored file, and while one PDF is being
made for an assessment, asking again gets that one.

This module is what the web processes import: WeasyPrint (eligibility.pdf) is imported only
by the task, in the worker, so that it never takes a web worker's memory."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import signal
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from eligibility import questionnaire
from eligibility.models import Assessment, ResultsPdf
from eligibility.rules import current_rulebook

logger = logging.getLogger(__name__)

Status = ResultsPdf.Status
PageSize = Literal["A4", "letter"]

# Countries whose standard paper is US Letter; everyone else uses A4.
LETTER_REGIONS = frozenset(
    {"US", "CA", "MX", "PH", "CL", "CO", "CR", "DO", "GT", "NI", "PA", "PR", "SV", "VE"}
)

# A PDF worker that died while rendering (killed, out of memory) leaves its PDF "being made";
# past this long after the time limit, it counts as failed and may be asked for again.
STALE_AFTER = dt.timedelta(seconds=60)
# A PDF no worker took within this long is reported as failed, so that the applicant is told
# instead of waiting for ever (and may ask again once workers run).
MOST_QUEUED = dt.timedelta(minutes=15)


def page_size_for(accept_language: str) -> PageSize:
    """Letter when the browser's most preferred language names a Letter country (en-US,
    en-CA, es-MX, fil-PH...), A4 otherwise, including when no region is given."""
    best, best_q = "", -1.0
    for part in accept_language[:1000].split(","):
        tag, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > best_q:
            best, best_q = tag, quality
    regions = [s for s in best.replace("_", "-").split("-")[1:] if len(s) == 2 and s.isalpha()]
    return "letter" if regions and regions[0].upper() in LETTER_REGIONS else "A4"


def filename(on: dt.date) -> str:
    return f"route-finder-results-{on.isoformat()}.pdf"


def fingerprint(
    rules_version: str, stored_answers: Mapping[str, Any], on: dt.date, page_size: str, link: str
) -> str:
    """What a results PDF is made of: the same fingerprint, the same PDF."""
    made_of = {
        "rules": rules_version,
        "answers": dict(sorted(stored_answers.items())),
        "on": on.isoformat(),
        "paper": page_size,
        "link": link,
    }
    return hashlib.sha256(json.dumps(made_of, sort_keys=True, default=str).encode()).hexdigest()


def current_fingerprint(assessment: Assessment, page_size: str, link: str) -> str:
    """The fingerprint of the PDF that asking now would make."""
    return fingerprint(
        current_rulebook().version, assessment.answer_map(), timezone.localdate(), page_size, link
    )


def _close_abandoned(assessment: Assessment) -> None:
    """A PDF whose worker died, or that no worker took, is failed: it no longer blocks."""
    now = timezone.now()
    died = now - dt.timedelta(seconds=settings.PDF_MOST_SECONDS) - STALE_AFTER
    assessment.pdfs.filter(status=Status.RENDERING, started_at__lt=died).update(
        status=Status.FAILED, finished_at=now
    )
    assessment.pdfs.filter(status=Status.QUEUED, requested_at__lt=now - MOST_QUEUED).update(
        status=Status.FAILED, finished_at=now
    )


def ask_for_pdf(assessment: Assessment, page_size: PageSize, link: str) -> ResultsPdf:
    """The PDF of these results: the stored one when the same was asked for before (ready,
    too long, or being made), the one being made when another is, else a new one, queued.
    `link`: the private link to print in it, or "" for none. Superseded PDFs are deleted."""
    _close_abandoned(assessment)
    made_of = current_fingerprint(assessment, page_size, link)
    kept = (Status.READY, Status.TOO_LONG, *ResultsPdf.PENDING)
    pdfs = assessment.pdfs.defer("content").order_by("-requested_at")
    same = pdfs.filter(fingerprint=made_of, status__in=kept).first()
    if same is not None:
        return same
    pending = pdfs.filter(status__in=ResultsPdf.PENDING).first()
    if pending is not None:
        return pending
    assessment.pdfs.exclude(status__in=ResultsPdf.PENDING).delete()
    try:
        with transaction.atomic():
            made = ResultsPdf.objects.create(
                assessment=assessment, fingerprint=made_of, page_size=page_size, resume_url=link
            )
    except IntegrityError:  # another request for this assessment queued one first
        raced = pdfs.filter(status__in=kept).first()
        if raced is None:
            raise
        return raced
    render_results_pdf.enqueue(made.pk)
    return made


class TookTooLong(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TookTooLong in the block after `seconds`; only where signals can be had (the
    main thread, as in a PDF worker), else no limit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise TookTooLong(f"Rendering took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@task(queue_name="pdf")
def render_results_pdf(pdf_id: int) -> str:
    """Make one PDF asked for through ask_for_pdf, in a PDF worker. Claims it first, so that
    a PDF is never made twice; one whose assessment was deleted is left alone."""
    claimed = ResultsPdf.objects.filter(pk=pdf_id, status=Status.QUEUED).update(
        status=Status.RENDERING, started_at=timezone.now()
    )
    if not claimed:
        return "not queued"
    job = ResultsPdf.objects.defer("content").select_related("assessment").get(pk=pdf_id)
    from eligibility import pdf  # WeasyPrint: only in the worker

    book = current_rulebook()
    answers = questionnaire.saved_answers(job.assessment, book)
    on = timezone.localdate(job.requested_at)
    done: dict[str, Any] = {"finished_at": timezone.now()}
    try:
        with time_limit(settings.PDF_MOST_SECONDS):
            document = pdf.lay_out(
                pdf.results_html(pdf.results_for(book, answers, on), resume_url=job.resume_url),
                "letter" if job.page_size == "letter" else "A4",
                most_pages=settings.PDF_MOST_PAGES,
                most_html_kb=settings.PDF_MOST_HTML_KB,
            )
            content, pages = pdf.write(document), len(document.pages)
    except pdf.TooLong as too_long:
        done.update(status=Status.TOO_LONG, pages=too_long.pages)
    except Exception:
        logger.exception("The PDF %s could not be made.", pdf_id)
        done.update(status=Status.FAILED)
    else:
        done.update(status=Status.READY, content=content, pages=pages)
    done["finished_at"] = timezone.now()
    ResultsPdf.objects.filter(pk=pdf_id, status=Status.RENDERING).update(**done)
    return str(done["status"])


def purge_old_pdfs(now: dt.datetime | None = None) -> int:
    """Delete stored PDFs made more than PDF_KEEP_HOURS ago, and finished PDF tasks as old;
    the number of PDFs deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.PDF_KEEP_HOURS)
    count, _ = ResultsPdf.objects.filter(requested_at__lt=cutoff).delete()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return count
