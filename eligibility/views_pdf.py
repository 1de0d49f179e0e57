"""The results as a PDF download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from eligibility import pdf, questionnaire
from eligibility.models import Assessment
from eligibility.rules import current_rulebook


@require_GET
@vary_on_headers("Accept-Language")
def results_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The results page as a PDF attachment, on A4 or Letter as the browser's language
    suggests. Only the token's holder gets it: a wrong token and a deleted assessment give
    the same 404 as every other page. Re-evaluated now, like the results page."""
    assessment = get_object_or_404(Assessment.objects.live(), token=token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    on = timezone.localdate()
    page_size = pdf.page_size_for(request.headers.get("Accept-Language", ""))
    response = HttpResponse(
        pdf.render_results(book, answers, on, page_size), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(on)}"'
    response["Cache-Control"] = "private, no-store"
    return response
