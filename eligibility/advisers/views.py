"""The advisers' pages beside the route admin: open a draft, preview it, see its impact and
publish it, read the route's history and revert, run its scenarios. Thin views: the work is
in drafts.py, history.py and scenarios.py."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib import messages
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from eligibility import engine, questionnaire
from eligibility.advisers import drafts, figures, history, scenarios
from eligibility.models import Route, RouteRevision, Scenario
from eligibility.results import build_results
from eligibility.rules import load_rulebook, rulebook_with_draft


def _page(name: str, pk: int) -> str:
    """The admin page `name` of a route: change, impact, revisions..."""
    return reverse(f"admin:eligibility_route_{name}", args=[pk])


def _context(site: AdminSite, request: HttpRequest, route: Route, title: str) -> dict[str, Any]:
    return {
        **site.each_context(request),
        "title": title,
        "route": route,
        "opts": Route._meta,
        "change_url": _page("change", route.pk),
    }


def _route(request: HttpRequest, pk: int, action: str = "view") -> Route:
    route = get_object_or_404(Route.objects.select_related("draft_of", "drafted_by"), pk=pk)
    if not request.user.has_perm(f"eligibility.{action}_route"):
        raise PermissionDenied
    return route


@require_http_methods(["GET", "POST"])
def start_draft(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """GET asks to confirm; POST opens the route's draft (or goes to the one it has)."""
    route = _route(request, pk, "change")
    existing = route.drafts.first()
    if existing is not None:
        messages.info(request, f"“{route.name}” already has a draft; it opens here.")
        return HttpResponseRedirect(_page("change", existing.pk))
    if request.method == "POST":
        try:
            draft = drafts.open_draft(route, request.user)
        except drafts.PublishRefused as refused:
            messages.error(request, " ".join(refused.reasons))
            return HttpResponseRedirect(_page("change", route.pk))
        messages.success(
            request,
            f"A draft of “{route.name}” is open. Applicants keep the published rules until a "
            "second adviser reviews and publishes it.",
        )
        return HttpResponseRedirect(_page("change", draft.pk))
    return render(
        request,
        "admin/eligibility/route/start_draft.html",
        _context(site, request, route, f"Edit “{route.name}” in a draft"),
    )


def _preview_answers(
    request: HttpRequest, route: Route
) -> tuple[dict[str, Any] | None, dt.date, str, dict[str, str]]:
    """The answers and date to preview, what they are, and errors by field."""
    errors: dict[str, str] = {}
    on = timezone.localdate()
    if request.GET.get("on"):
        try:
            on = dt.date.fromisoformat(request.GET["on"])
        except ValueError:
            errors["on"] = "Enter the date as YYYY-MM-DD, e.g. 2027-01-01."
    raw: Any = None
    what = ""
    if request.GET.get("scenario"):
        scenario = Scenario.objects.filter(pk=request.GET["scenario"]).first()
        if scenario is None:
            errors["scenario"] = "No such scenario."
        else:
            raw, what = scenario.answers, f"Scenario “{scenario.name}”"
            if not request.GET.get("on"):
                on = scenario.on
    elif request.GET.get("answers", "").strip():
        try:
            raw = json.loads(request.GET["answers"])
        except json.JSONDecodeError as exc:
            errors["answers"] = f"This is not JSON: {exc.msg} (line {exc.lineno})."
        except (ValueError, RecursionError):  # a 5,000-digit number, 100,000 nested lists
            errors["answers"] = "This JSON is too deep or holds too long a number to read."
        what = "Answers typed in"
    if raw is None or errors:
        return None, on, what, errors
    if not isinstance(raw, dict):
        return None, on, what, {"answers": 'Give an object of answers, e.g. {"age": 29}.'}
    try:
        return scenarios.parse_answers(raw, load_rulebook()), on, what, errors
    except ValueError as exc:
        return None, on, what, {"answers": str(exc)}


def preview(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """The full results page an applicant would see with the draft published."""
    route = _route(request, pk)
    answers, on, what, errors = _preview_answers(request, route)
    if answers is None:
        expected_here = Scenario.objects.filter(
            expectations__route_id=route.draft_of_id or route.pk
        ).distinct()
        return render(
            request,
            "admin/eligibility/route/preview_form.html",
            {
                **_context(site, request, route, f"Preview “{route.name}”"),
                "scenarios": expected_here,
                "errors": errors,
                "values": request.GET,
                "today": timezone.localdate(),
            },
            status=200 if not errors else 400,
        )
    book = rulebook_with_draft(route) if route.status == Route.Status.DRAFT else load_rulebook()
    preview = {
        "route_name": route.name,
        "what": f"{what}, evaluated on {on:%d %B %Y}.",
        "back_url": _page("change", route.pk),
    }
    results = build_results(
        book, answers, on, chosen_countries=questionnaire.chosen_countries(book, answers)
    )
    # for_print: no links into an applicant's questionnaire (there is no assessment here).
    return render(
        request, "results.html", {"results": results, "for_print": True, "preview": preview}
    )


def impact(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """What publishing the draft would change, and the reviewer's publish button."""
    route = _route(request, pk)
    if route.status != Route.Status.DRAFT:
        messages.info(request, "Only a draft has an impact report: open a draft first.")
        return HttpResponseRedirect(_page("change", route.pk))
    found = drafts.impact(route)
    published = route.draft_of
    before = drafts.snapshot(published) if published is not None else None
    return render(
        request,
        "admin/eligibility/route/impact.html",
        {
            **_context(site, request, route, f"Impact of publishing “{route.name}”"),
            "impact": found,
            "edits": history.changes(before, drafts.snapshot(route, as_published=True)),
            "refusals": drafts.refusals(route, request.user, found),
            "authors": drafts.author_names(route),
        },
    )


@require_POST
def publish(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    route = _route(request, pk)
    try:
        revision = drafts.publish(route, request.user)
    except drafts.PublishRefused as refused:
        for reason in refused.reasons:
            messages.error(request, reason)
        return HttpResponseRedirect(_page("impact", route.pk))
    state = "withdrawn" if revision.route.status == Route.Status.DRAFT else "published"
    messages.success(request, f"“{revision.route.name}” is {state} as revision {revision.number}.")
    return HttpResponseRedirect(_page("revisions", revision.route.pk))


def revisions(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """The route's published revisions, newest first, each with what it changed."""
    route = _route(request, pk)
    draft = route if route.status == Route.Status.DRAFT else route.drafts.first()
    rows = list(route.revisions.select_related("drafted_by", "published_by").order_by("number"))
    entries = []
    previous: dict[str, Any] | None = None
    for revision in rows:
        entries.append((revision, history.changes(previous, revision.snapshot)))
        previous = revision.snapshot
    entries.reverse()
    return render(
        request,
        "admin/eligibility/route/revisions.html",
        {
            **_context(site, request, route, f"History of “{route.name}”"),
            "entries": entries,
            "draft": draft,
            # A publication replaces every row, so the published route's own log is that noise;
            # what to read besides the revisions is the open draft's edits.
            "draft_edits": drafts.draft_edits(draft) if draft is not None else [],
        },
    )


@require_POST
def revert(request: HttpRequest, pk: int, number: int, site: AdminSite) -> HttpResponse:
    route = _route(request, pk, "change")
    revision = get_object_or_404(RouteRevision, route=route, number=number)
    try:
        draft = drafts.revert_to(revision, request.user)
    except drafts.PublishRefused as refused:
        messages.error(request, " ".join(refused.reasons))
        return HttpResponseRedirect(_page("revisions", route.pk))
    messages.success(
        request,
        f"A draft holds revision {revision.number}. Check its impact; a second adviser "
        "publishes it.",
    )
    return HttpResponseRedirect(_page("change", draft.pk))


def _verdict_label(value: str | None) -> str:
    if value is None:
        return "—"
    try:
        return engine.Verdict(value).label
    except ValueError:
        return value


def route_scenarios(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """This route's scenarios run now against its rules (the draft's, for a draft)."""
    route = _route(request, pk)
    book = rulebook_with_draft(route) if route.status == Route.Status.DRAFT else load_rulebook()
    runs = scenarios.run_scenarios(book, slug=route.published_slug)
    return render(
        request,
        "admin/eligibility/route/scenarios.html",
        {
            **_context(site, request, route, f"Scenarios of “{route.name}”"),
            "runs": [(run, _verdict_label(run.expected), _verdict_label(run.got)) for run in runs],
            "failing": sum(not run.passed for run in runs),
            "scenario_admin": reverse("admin:eligibility_scenario_changelist"),
        },
    )


@require_http_methods(["GET", "POST"])
def new_figures(request: HttpRequest, pk: int, site: AdminSite) -> HttpResponse:
    """New figures from a date for many gates at once, on a draft."""
    route = _route(request, pk, "change")
    if route.status != Route.Status.DRAFT:
        messages.info(request, "Figures change in a draft: open one first.")
        return HttpResponseRedirect(_page("draft", route.pk))
    on = _day(request.POST.get("effective_from") or request.GET.get("effective_from"))
    every_gate = bool(request.GET.get("every_gate") or request.POST.get("every_gate"))
    rows = figures.figure_rows(route, on or timezone.localdate(), every_gate=every_gate)
    form = figures.NewFiguresForm(request.POST or None, rows=rows)
    if request.method == "POST" and on is not None and form.is_valid():
        changed = figures.apply_figures(form)
        messages.success(
            request,
            f"{changed} gate(s) have new figures from {on:%d %B %Y}. Preview the draft and "
            "check its impact; a second adviser publishes it.",
        )
        return HttpResponseRedirect(_page("change", route.pk))
    return render(
        request,
        "admin/eligibility/route/new_figures.html",
        {
            **_context(site, request, route, f"New figures for “{route.name}”"),
            "form": form,
            "rows": [
                (
                    row,
                    form[row.field],
                    form[row.note_field] if row.note_field in form.fields else None,
                )
                for row in rows
            ],
            "on": on,
            "every_gate": every_gate,
        },
        status=400 if request.method == "POST" else 200,
    )


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None
