"""The results as a PDF for the applicant's adviser: asked for here, made by a PDF worker
(eligibility.pdf_jobs), then downloaded. Only the token's holder gets any of these pages: a
wrong token, a deleted and an expired assessment give the same 404 as every other page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from eligibility import pdf_jobs
from eligibility.models import Assessment, ResultsPdf
from eligibility.throttle import PDF_REQUESTS, limited
from eligibility.views import HtmxHttpRequest


def _pdf(token: str, pdf_id: int) -> ResultsPdf:
    return get_object_or_404(
        ResultsPdf.objects.defer("content").select_related("assessment"),
        pk=pdf_id,
        assessment__in=Assessment.objects.live().filter(token=token),
    )


@require_POST
@never_cache
@limited(PDF_REQUESTS)
@vary_on_headers("HX-Request")
def ask_for_pdf(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Ask for the PDF of the results as they are now: on A4, or Letter as the browser's
    language suggests, with the private link back to them printed only when the applicant
    ticked `link`. Then the page that says when it is ready (with htmx, that part of it)."""
    assessment = get_object_or_404(Assessment.objects.live(), token=token)
    link = ""
    if request.POST.get("link") == "1":
        link = request.build_absolute_uri(reverse("resume", args=[token]))
    page_size = pdf_jobs.page_size_for(request.headers.get("Accept-Language", ""))
    asked = pdf_jobs.ask_for_pdf(assessment, page_size, link)
    if request.htmx:
        return render(request, "pdf.html#status", _status_context(asked))
    return redirect("pdf", token=token, pdf_id=asked.pk)


def _status_context(asked: ResultsPdf) -> dict[str, object]:
    token = asked.assessment.token
    return {
        "pdf": asked,
        "status_url": reverse("pdf", args=[token, asked.pk]),
        "file_url": reverse("pdf_file", args=[token, asked.pk]),
        "results_url": reverse("results", args=[token]),
        "most_pages": settings.PDF_MOST_PAGES,
        "Status": ResultsPdf.Status,
        # Answers or rules changed since: this PDF no longer says what the results page does.
        "outdated": asked.status == ResultsPdf.Status.READY
        and asked.fingerprint
        != pdf_jobs.current_fingerprint(asked.assessment, asked.page_size, asked.resume_url),
    }


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def pdf_status(request: HtmxHttpRequest, token: str, pdf_id: int) -> HttpResponse:
    """Whether the PDF is ready, with a link to refresh while it is not. htmx polls this
    with `?waiting=1` and gets 204 (nothing to swap, nothing for a screen reader to repeat)
    until the PDF is ready or has failed."""
    asked = _pdf(token, pdf_id)
    if request.htmx and not request.htmx.history_restore_request:
        if asked.is_pending and request.GET.get("waiting"):
            return HttpResponse(status=204)
        return render(request, "pdf.html#status", _status_context(asked))
    return render(request, "pdf.html", _status_context(asked))


@require_safe
def pdf_file(request: HtmxHttpRequest, token: str, pdf_id: int) -> HttpResponse:
    """The stored PDF, as an attachment; its status page while it is not ready."""
    asked = _pdf(token, pdf_id)
    if asked.status != ResultsPdf.Status.READY:
        return redirect("pdf", token=token, pdf_id=asked.pk)
    content = ResultsPdf.objects.values_list("content", flat=True).get(pk=asked.pk) or b""
    response = HttpResponse(bytes(content), content_type="application/pdf")
    name = pdf_jobs.filename(timezone.localdate(asked.requested_at))
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response
