"""The results as a PDF download."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from eligibility import pdf, questionnaire
from eligibility.models import Assessment
from eligibility.rules import current_rulebook


@require_GET
@vary_on_headers("Accept-Language")
def results_pdf(request: HttpRequest, token: str) -> HttpResponse:
    """The results as a brief for the applicant's adviser, a PDF attachment on A4 or Letter
    as the browser's language suggests. `?link=1` (the applicant's choice) prints the private
    link back to the live result; without it the PDF holds no link to the answers. Only the
    token's holder gets it: a wrong token, a deleted and an expired assessment give the same
    404 as every other page. Re-evaluated now, like the results page."""
    assessment = get_object_or_404(Assessment.objects.live(), token=token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    on = timezone.localdate()
    page_size = pdf.page_size_for(request.headers.get("Accept-Language", ""))
    resume_url = ""
    if request.GET.get("link") == "1":
        resume_url = request.build_absolute_uri(reverse("resume", args=[token]))
    content = pdf.render_results(
        pdf.results_for(book, answers, on), page_size, resume_url=resume_url
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf.filename(on)}"'
    response["Cache-Control"] = "private, no-store"
    return response
