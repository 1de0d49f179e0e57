"""The applicant's pages: start, one question per step, check your answers, results, delete.
Every page is reached through the assessment's unguessable token; a wrong token and a deleted
assessment give the same 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_countries import countries
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from eligibility import questionnaire, report
from eligibility.engine import Kind, QuestionRule, RuleBook
from eligibility.forms import AnswerForm
from eligibility.models import Assessment
from eligibility.rules import current_rulebook
from eligibility.throttle import limit_new_assessments


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _is_partial(request: HtmxHttpRequest) -> bool:
    """An htmx request that swaps part of the page; a history restore needs the full page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _assessment(token: str) -> Assessment:
    """The assessment, unless it is past its retention period (purge_assessments may not have
    run yet): then, like a deleted one, a 404."""
    return get_object_or_404(Assessment.objects.live(), token=token)


def _question_url(token: str, key: str, *, back_to_check: bool = False) -> str:
    url = reverse("question", args=[token, key])
    return f"{url}?next=check" if back_to_check else url


def _next_url(token: str, book: RuleBook, answers: dict[str, Any], on: dt.date) -> str:
    question = questionnaire.next_question(book, answers, on)
    if question is None:
        return reverse("check", args=[token])
    return _question_url(token, question.key)


@require_GET
def start(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "start.html", {"retention_days": settings.ASSESSMENT_RETENTION_DAYS})


@require_POST
@limit_new_assessments
def begin(request: HtmxHttpRequest) -> HttpResponse:
    """Start a new assessment: no account, no name, no e-mail; only a token."""
    assessment = Assessment.objects.create()
    return redirect(_next_url(assessment.token, current_rulebook(), {}, timezone.localdate()))


@require_GET
def resume(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The resume link: the next question, or the summary when none is left."""
    assessment = _assessment(token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    return redirect(_next_url(token, book, answers, timezone.localdate()))


def _choices(question: QuestionRule) -> list[tuple[str, str]]:
    if question.kind is Kind.BOOLEAN:
        return [("yes", "Yes"), ("no", "No")]
    if question.kind in (Kind.COUNTRY, Kind.COUNTRIES):
        return [*question.choices, *((code, str(name)) for code, name in countries)]
    return list(question.choices)


def _offer_currency(book: RuleBook, answers: dict[str, Any]) -> str:
    """The currency of the job offer's country (a core question key), when a route there
    says it, so that a salary question can show "EUR" beside the field."""
    country = answers.get("job_offer_country")
    return next((r.currency for r in book.routes if r.country == country), "")


def _step_context(
    assessment: Assessment,
    book: RuleBook,
    question: QuestionRule,
    answers: dict[str, Any],
    form: AnswerForm,
    *,
    back_to_check: bool,
    remaining: list[QuestionRule] | None = None,
) -> dict[str, Any]:
    on = timezone.localdate()
    token = assessment.token
    if back_to_check:
        back_url = reverse("check", args=[token])
    else:
        previous = questionnaire.previous_question(book, answers, question)
        back_url = _question_url(token, previous.key) if previous else reverse("start")
    return {
        "assessment": assessment,
        "question": question,
        "form": form,
        "field_value": form.shown_value,
        "choices": _choices(question),
        "is_country": question.kind in (Kind.COUNTRY, Kind.COUNTRIES),
        "is_countries": question.kind is Kind.COUNTRIES,
        "also_value": form.shown_also,
        "is_text": question.kind in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY),
        "inputmode": "numeric" if question.kind is Kind.INTEGER else "decimal",
        "currency": _offer_currency(book, answers) if question.kind is Kind.MONEY else "",
        "has_answer": question.key in answers,
        "action": _question_url(token, question.key, back_to_check=back_to_check),
        "back_url": back_url,
        "back_to_check": back_to_check,
        "progress": questionnaire.progress(book, answers, on, remaining),
        "panel": questionnaire.route_panel(book, answers, on),
        "check_url": reverse("check", args=[token]),
    }


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def question(request: HtmxHttpRequest, token: str, key: str) -> HttpResponse:
    """One question. A good answer is saved and leads to the next step (POST, then redirect;
    with htmx, the next step and the route panel in one response). A bad answer changes
    nothing and comes back with its message."""
    assessment = _assessment(token)
    book = current_rulebook()
    rule = book.questions_by_key.get(key)
    if rule is None:
        raise Http404("No such question.")
    answers = questionnaire.saved_answers(assessment, book)
    on = timezone.localdate()
    back_to_check = request.GET.get("next") == "check"

    if request.method == "POST":
        form = AnswerForm(rule, request.POST)
        if form.is_valid():
            value = form.cleaned_data["answer"]
            questionnaire.save_answer(assessment, key, value)
            answers[key] = value
            remaining = [] if back_to_check else questionnaire.questions_to_ask(book, answers, on)
            following = remaining[0] if remaining else None
            if following is None:
                target = reverse("check", args=[token])
                if request.htmx:
                    return HttpResponseClientRedirect(target)
                return redirect(target)
            if not request.htmx:
                return redirect(_question_url(token, following.key))
            context = _step_context(
                assessment,
                book,
                following,
                answers,
                _initial_form(following, answers),
                back_to_check=False,
                remaining=remaining,
            )
            response = render(request, "question.html#htmx_step", {**context, "oob": True})
            response["HX-Push-Url"] = _question_url(token, following.key)
            return response
    else:
        form = _initial_form(rule, answers)

    context = _step_context(assessment, book, rule, answers, form, back_to_check=back_to_check)
    # Errors come back with 200 so that htmx swaps them in like any other step.
    if _is_partial(request):
        return render(request, "question.html#htmx_step", {**context, "oob": True})
    return render(request, "question.html", context)


def _initial_form(question: QuestionRule, answers: dict[str, Any]) -> AnswerForm:
    initial = {}
    if answers.get(question.key) is not None:
        initial["answer"] = questionnaire.as_field_value(question, answers[question.key])
        if question.kind is Kind.COUNTRIES and answers[question.key]:
            initial["also"] = ", ".join(answers[question.key][1:])
    return AnswerForm(question, initial=initial)


@require_GET
def check(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Check your answers: every answer with a Change link, and the questions skipped because
    no verdict depended on them."""
    assessment = _assessment(token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    on = timezone.localdate()
    sections: dict[str, list[dict[str, Any]]] = {}
    for q in book.questions:
        if q.key in answers:
            sections.setdefault(q.section or "Questions", []).append(
                {
                    "question": q,
                    "answer": report.display_value(q, answers[q.key]),
                    "change_url": _question_url(token, q.key, back_to_check=True),
                }
            )
    to_ask = questionnaire.questions_to_ask(book, answers, on)
    skipped = [
        {"question": q, "change_url": _question_url(token, q.key, back_to_check=True)}
        for q in questionnaire.unasked_questions(book, answers, on)
        if q not in to_ask
    ]
    return render(
        request,
        "check.html",
        {
            "assessment": assessment,
            "sections": sections,
            "skipped": skipped,
            "still_to_ask": to_ask[0] if to_ask else None,
            "resume_url": request.build_absolute_uri(reverse("resume", args=[token])),
            "retention_days": settings.ASSESSMENT_RETENTION_DAYS,
        },
    )


@require_GET
@vary_on_headers("HX-Request")
def results(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Every route grouped by verdict, with the why. Each view re-evaluates on the current
    rules and records when and against which rules, so a later visit can say what changed."""
    assessment = _assessment(token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    now = timezone.now()
    on = timezone.localdate(now)
    context = report.results_context(book, answers, on)
    outcome = context["outcome"]

    previous_version = assessment.rules_version
    previous_evaluation = assessment.evaluated_at
    changes: list[report.VerdictChange] = []
    if previous_version and previous_version != book.version:
        changes = report.verdict_changes(assessment.verdicts, outcome)
    assessment.evaluated_at = now
    assessment.rules_version = book.version
    assessment.verdicts = {r.route.slug: r.verdict.value for r in outcome}
    assessment.save(update_fields=["evaluated_at", "rules_version", "verdicts"])

    context |= {
        "assessment": assessment,
        "rules_changed": bool(previous_version) and previous_version != book.version,
        "previous_evaluation": previous_evaluation,
        "changes": changes,
        "resume_url": request.build_absolute_uri(reverse("resume", args=[token])),
        "check_url": reverse("check", args=[token]),
    }
    return render(request, "results.html", context)


@require_http_methods(["GET", "POST"])
def delete(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Ask, then delete the assessment and every answer for good."""
    assessment = _assessment(token)
    if request.method == "POST":
        assessment.delete()
        return HttpResponseRedirect(reverse("deleted"))
    return render(request, "delete.html", {"assessment": assessment})


@require_GET
def deleted(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "delete.html", {"deleted": True})
