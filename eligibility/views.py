"""The applicant's pages: start, one question per step, check your answers, results, delete.
Every page is reached through the assessment's unguessable token; a wrong token and a deleted
assessment give the same 404."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from eligibility import questionnaire
from eligibility.engine import Kind, QuestionRule, RuleBook
from eligibility.forms import AnswerForm
from eligibility.models import Assessment
from eligibility.results import build_results, display_value, verdict_changes
from eligibility.rules import current_rulebook
from eligibility.throttle import ANSWERS, limit_new_assessments, seconds_until_allowed

# A results URL with more `compare` parameters than this is cut, not read: at most four routes
# are compared, and a hostile URL must not make the page do work per parameter.
MOST_COMPARE_PARAMETERS = 20


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _is_partial(request: HtmxHttpRequest) -> bool:
    """An htmx request that swaps part of the page; a history restore needs the full page."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _assessment(token: str) -> Assessment:
    """The assessment, unless it is past its retention period (purge_assessments may not have
    run yet): then, like a deleted one, a 404."""
    return get_object_or_404(Assessment.objects.live(), token=token)


# Pages a question reached from them goes back to, after a good answer (`?next=`).
BACK_TO = ("check", "results")


def _question_url(token: str, key: str, *, back_to: str = "") -> str:
    url = reverse("question", args=[token, key])
    return f"{url}?next={back_to}" if back_to in BACK_TO else url


def _next_url(token: str, book: RuleBook, answers: dict[str, Any], on: dt.date) -> str:
    question = questionnaire.next_question(book, answers, on)
    if question is None:
        return reverse("check", args=[token])
    return _question_url(token, question.key)


@require_safe
def start(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "start.html", {"retention_days": settings.ASSESSMENT_RETENTION_DAYS})


@require_POST
@limit_new_assessments
def begin(request: HtmxHttpRequest) -> HttpResponse:
    """Start a new assessment: no account, no name, no e-mail; only a token."""
    assessment = Assessment.objects.create()
    return redirect(_next_url(assessment.token, current_rulebook(), {}, timezone.localdate()))


@require_safe
@never_cache
def resume(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The resume link: the next question, or the summary when none is left."""
    assessment = _assessment(token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    return redirect(_next_url(token, book, answers, timezone.localdate()))


def _money_currency(book: RuleBook, question: QuestionRule, answers: dict[str, Any]) -> str:
    """The currency an amount is asked in: that of the question's own country ("United
    Kingdom": GBP for the funds the UK asks for), else that of the job offer's country, when
    a route there says it. "" when neither is known."""
    country = questionnaire.section_countries(book).get(question.section) or answers.get(
        questionnaire.OFFER_COUNTRY
    )
    return questionnaire.route_currency(book, country)


def _answer_form(
    book: RuleBook,
    question: QuestionRule,
    answers: dict[str, Any],
    data: Any = None,
    *,
    refused: str = "",
) -> AnswerForm:
    """The answer form, bound to `data` (a POST) or showing the saved answer; `refused`: why
    a POST is not even read."""
    initial: dict[str, Any] = {}
    saved = answers.get(question.key)
    if saved is not None:
        initial["answer"] = questionnaire.as_field_value(question, saved)
        if question.kind is Kind.COUNTRIES:
            initial["answers"] = list(saved)
            initial["also"] = ", ".join(saved[1:])
    year = questionnaire.year_question(book, question.key)
    return AnswerForm(
        question,
        data,
        initial=initial,
        currency=_money_currency(book, question, answers) if question.kind is Kind.MONEY else "",
        on=timezone.localdate(),
        answers=answers,
        year_question=year,
        refused=refused,
    )


def _step_context(
    assessment: Assessment,
    book: RuleBook,
    question: QuestionRule,
    answers: dict[str, Any],
    form: AnswerForm,
    *,
    back_to: str,
    before: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`before`: the answers one step earlier, so that the route panel says what changed."""
    on = timezone.localdate()
    token = assessment.token
    panel = questionnaire.route_panel(book, answers, on, before)
    if back_to:
        back_url = reverse(back_to, args=[token])
    else:
        # Working out the previous question replays the flow (tens of milliseconds), so it
        # is done only when the applicant follows the link, not on every step.
        back_url = reverse("back", args=[token, question.key])
    return {
        "assessment": assessment,
        "question": question,
        "form": form,
        "currency": form.currency,
        "has_answer": question.key in answers,
        "action": _question_url(token, question.key, back_to=back_to),
        "back_url": back_url,
        "back_to": back_to,
        "progress": questionnaire.progress(book, answers, on),
        "panel": panel,
        "panel_rows": _panel_rows(panel),
        "check_url": reverse("check", args=[token]),
    }


def _panel_rows(panel: questionnaire.RoutePanel) -> str:
    """The panel's lines, best verdicts first. A line depends only on its route and verdict,
    so each is drawn once and kept: with many routes, drawing the lines afresh on every step
    cost more than working out the verdicts."""
    return mark_safe("".join(_panel_row(route) for route in panel.ordered))


@functools.lru_cache(maxsize=4096)
def _panel_row(route: questionnaire.PanelRoute) -> str:
    return render_to_string("question.html#panel_route", {"route": route})


def _question_page(
    token: str, key: str
) -> tuple[Assessment, RuleBook, QuestionRule, dict[str, Any]]:
    """The assessment, the rules, the question and the saved answers; a 404 for a wrong
    token or an unknown question."""
    assessment = _assessment(token)
    book = current_rulebook()
    question = book.questions_by_key.get(key)
    if question is None:
        raise Http404("No such question.")
    return assessment, book, question, questionnaire.saved_answers(assessment, book)


@require_safe
@never_cache
def back(request: HtmxHttpRequest, token: str, key: str) -> HttpResponse:
    """The Back link of a question: to the question asked just before it, or to the start."""
    _, book, current, answers = _question_page(token, key)
    previous = questionnaire.previous_question(book, answers, current, timezone.localdate())
    return redirect(_question_url(token, previous.key) if previous else reverse("start"))


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@vary_on_headers("HX-Request")
def question(request: HtmxHttpRequest, token: str, key: str) -> HttpResponse:
    """One question. A good answer is saved and leads to the next step (POST, then redirect;
    with htmx, the next step and the route panel in one response). A bad answer changes
    nothing and comes back with its message; an amount that reads two ways comes back asking
    which was meant, and nothing is saved until the applicant says. With `?next=check` or
    `?next=results` a good answer goes back to that page."""
    assessment, book, rule, answers = _question_page(token, key)
    on = timezone.localdate()
    back_to = _back_to(request)

    status = 200
    if request.method == "POST":
        retry_after = seconds_until_allowed(request, ANSWERS)
        form = _answer_form(book, rule, answers, request.POST, refused=_too_many(retry_after))
        if retry_after:
            status = 429
        elif form.is_valid():
            value = form.cleaned_data["answer"]
            questionnaire.save_answer(assessment, key, value)
            before = dict(answers)
            answers[key] = value
            following = None if back_to else questionnaire.next_question(book, answers, on)
            if following is None:
                target = reverse(back_to or "check", args=[token])
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
                _answer_form(book, following, answers),
                back_to="",
                before=before,
            )
            response = render(request, "question.html#htmx_step", {**context, "oob": True})
            response["HX-Push-Url"] = _question_url(token, following.key)
            return response
    else:
        form = _answer_form(book, rule, answers)

    context = _step_context(assessment, book, rule, answers, form, back_to=back_to)
    # Errors come back with 200 so that htmx swaps them in like any other step (and 429,
    # which base.html's htmx-config swaps too).
    if _is_partial(request):
        response = render(
            request, "question.html#htmx_step", {**context, "oob": True}, status=status
        )
    else:
        response = render(request, "question.html", context, status=status)
    if status == 429:
        response["Retry-After"] = str(retry_after)
    return response


def _too_many(retry_after: int) -> str:
    """The message for an answer over the client's limit (ANSWERS_LIMIT), or ""."""
    if not retry_after:
        return ""
    minutes = -(-retry_after // 60)
    return (
        f"{ANSWERS.reason} Please send this answer again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}. {ANSWERS.meanwhile}"
    )


def _back_to(request: HtmxHttpRequest) -> str:
    """The page a changed answer goes back to: "check", "results", or "" (the next step)."""
    wanted = request.GET.get("next", "")
    return wanted if wanted in BACK_TO else ""


@require_safe
@never_cache
def check(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Check your answers: every answer with a Change link; the questions whose answer could
    still change a result (unanswered or "I don't know"); and those skipped because no result
    depends on them. The results page reads the same questionnaire.open_answers."""
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
                    "answer": _check_answer(book, q, answers),
                    "change_url": _question_url(token, q.key, back_to="check"),
                }
            )
    to_ask = questionnaire.questions_to_ask(book, answers, on)
    still_open = questionnaire.open_answers(book, answers, on)

    def rows(questions: tuple[QuestionRule, ...]) -> list[dict[str, Any]]:
        return [
            {"question": q, "change_url": _question_url(token, q.key, back_to="check")}
            for q in questions
        ]

    return render(
        request,
        "check.html",
        {
            "assessment": assessment,
            "sections": sections,
            "deciding": rows(still_open.deciding),
            "skipped": rows(still_open.skipped),
            "still_to_ask": to_ask[0] if to_ask else None,
            "resume_url": request.build_absolute_uri(reverse("resume", args=[token])),
            "retention_days": settings.ASSESSMENT_RETENTION_DAYS,
        },
    )


def _check_answer(book: RuleBook, question: QuestionRule, answers: dict[str, Any]) -> str:
    if question.key == questionnaire.DESTINATIONS and not answers[question.key]:
        return "Every country"
    return display_value(question, answers[question.key])


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def results(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The best options first, what would settle the uncertain ones, routes side by side
    (`?compare=` two to four routes), then every route by verdict. Each view re-evaluates on
    the current rules and records when and against which rules, so a later visit can say
    what changed."""
    assessment = _assessment(token)
    book = current_rulebook()
    answers = questionnaire.saved_answers(assessment, book)
    now = timezone.now()
    page = build_results(
        book,
        answers,
        timezone.localdate(now),
        chosen_countries=questionnaire.chosen_countries(book, answers),
        compare=request.GET.getlist("compare")[:MOST_COMPARE_PARAMETERS],
    )
    previous_version = assessment.rules_version
    previous_evaluation = assessment.evaluated_at
    rules_changed = bool(previous_version) and previous_version != book.version
    if rules_changed:
        page = dataclasses.replace(
            page, changes=verdict_changes(assessment.verdicts, page.route_results)
        )
    assessment.evaluated_at = now
    assessment.rules_version = book.version
    assessment.verdicts = page.verdicts
    assessment.save(update_fields=["evaluated_at", "rules_version", "verdicts"])
    return render(
        request,
        "results.html",
        {
            "results": page,
            "assessment": assessment,
            "rules_changed": rules_changed,
            "previous_evaluation": previous_evaluation,
            "resume_url": request.build_absolute_uri(reverse("resume", args=[token])),
            "check_url": reverse("check", args=[token]),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def delete(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """Ask, then delete the assessment and every answer for good."""
    assessment = _assessment(token)
    if request.method == "POST":
        assessment.delete()
        return HttpResponseRedirect(reverse("deleted"))
    return render(request, "delete.html", {"assessment": assessment})


@require_safe
def deleted(request: HtmxHttpRequest) -> HttpResponse:
    return render(request, "delete.html", {"deleted": True})
