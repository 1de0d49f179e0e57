"""The review queue: what advisers look at next. Published routes overdue for review, the
sources of published rules by age, drafts waiting for a reviewer and scenarios the published
rules fail. Shown on the admin's review dashboard and sent weekly by `manage.py review_digest`;
each list is read in a fixed number of queries, however many routes there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from eligibility import engine, rules
from eligibility.advisers.scenarios import ScenarioRun, run_scenarios
from eligibility.models import (
    KeyFact,
    NextStep,
    OpenQuestion,
    RequirementValue,
    Route,
    RouteRevision,
)

# The dashboard and the digest list this many sources, oldest first, and say how many in all.
SOURCES_SHOWN = 50
STALE_AFTER_DAYS = 365


def _due_split(routes: QuerySet[Route], today: dt.date) -> tuple[list[int], list[int]]:
    """The pks of the routes whose review was due before `today` (a route due today is not
    yet overdue), and of the others: one query. Each due date is Route.review_due_on's, worked
    out in Python: in SQL, a stored interval too long for any calendar (3,000,000 days, from
    SQL or an old row) overflows the database's dates and breaks the page."""
    late: list[int] = []
    current: list[int] = []
    for route in routes.only("pk", "last_verified_on", "review_interval_days"):
        (late if route.is_overdue(today) else current).append(route.pk)
    return late, current


def overdue(routes: QuerySet[Route], today: dt.date) -> QuerySet[Route]:
    """Routes whose review was due before `today`."""
    return routes.filter(pk__in=_due_split(routes, today)[0])


def not_overdue(routes: QuerySet[Route], today: dt.date) -> QuerySet[Route]:
    return routes.filter(pk__in=_due_split(routes, today)[1])


class OverdueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Route]
    ) -> list[tuple[str, str]]:
        return [("overdue", "Overdue for review"), ("current", "Up to date")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Route]) -> QuerySet[Route]:
        if self.value() == "overdue":
            return overdue(queryset, timezone.localdate())
        if self.value() == "current":
            return not_overdue(queryset, timezone.localdate())
        return queryset


def adviser_name(user: AbstractBaseUser | AnonymousUser) -> str:
    """How the catalogue names an adviser: their full name, else their username."""
    full_name = user.get_full_name() if isinstance(user, AbstractUser) else ""
    return full_name.strip() or user.get_username()


@admin.action(description="Mark verified today", permissions=["change"])
def mark_verified_today(
    modeladmin: admin.ModelAdmin[Route], request: HttpRequest, queryset: QuerySet[Route]
) -> None:
    """The selected routes are marked verified today by the adviser who asks. This changes no
    rule, so it needs no review; a published route's open draft is marked too, so that
    publishing the draft does not bring back the older date."""
    today = timezone.localdate()
    verifier = adviser_name(request.user)[: Route._meta.get_field("last_verified_by").max_length]
    routes = list(queryset.order_by("name", "pk").prefetch_related("drafts"))
    with transaction.atomic():
        for route in [*routes, *(d for r in routes for d in r.drafts.all())]:
            route.last_verified_on = today
            route.last_verified_by = verifier
            route.save()  # one save per route, so that the audit log names the adviser
    modeladmin.message_user(
        request,
        f"Marked {_count(len(routes), 'route')} verified today by {verifier}: {_names(routes)}.",
        messages.SUCCESS,
    )


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _names(routes: list[Route]) -> str:
    return ", ".join(str(route) for route in routes)


@dataclass(frozen=True)
class OverdueRoute:
    route: Route
    due_on: dt.date
    days_overdue: int
    draft_id: int | None  # the draft an adviser has opened of it, if any


@dataclass(frozen=True)
class SourceAge:
    """A source of a published route's gate value, key fact or open question."""

    route_id: int
    route: str
    kind: str  # "gate", "key fact" or "open question"
    subject: str  # the gate's question key, or the fact's or open question's topic
    title: str
    url: str
    as_of: dt.date
    approximate: bool
    age_days: int


@dataclass(frozen=True)
class DraftWaiting:
    draft: Route
    replaces: Route | None  # the published route it replaces, if any
    withdrawn: bool  # a route taken off the site, to be published again
    drafted_by: str
    change_note: str
    edited_at: dt.datetime


@dataclass(frozen=True)
class ReviewQueue:
    """What the review dashboard shows."""

    today: dt.date
    overdue: list[OverdueRoute]
    sources: list[SourceAge]  # the oldest SOURCES_SHOWN
    sources_total: int
    drafts: list[DraftWaiting]
    failing: list[ScenarioRun]


def overdue_routes(today: dt.date) -> list[OverdueRoute]:
    """Published routes past their review date, most overdue first: one query."""
    draft = Route.objects.filter(draft_of=OuterRef("pk")).values("pk")[:1]
    published: QuerySet[Route] = Route.objects.published()
    routes = published.annotate(draft_id=Subquery(draft))
    late = [
        OverdueRoute(route, route.review_due_on, (today - route.review_due_on).days, route.draft_id)
        for route in routes
        if route.is_overdue(today)
    ]
    return sorted(late, key=lambda item: (item.due_on, item.route.name, item.route.pk))


def _sources(
    rows: QuerySet[Any], route: str, kind: str, subject: str | Cast, stale_before: dt.date | None
) -> QuerySet[Any]:
    """Sources of published routes as rows of one shape, so that they make one union."""
    rows = rows.filter(**{f"{route}__status": Route.Status.PUBLISHED}).order_by()
    if stale_before is not None:
        rows = rows.filter(source_as_of__lt=stale_before)
    return rows.values(
        route_pk=F(f"{route}__id"),
        route_name=F(f"{route}__name"),
        route_country=F(f"{route}__country"),
        kind=Value(kind, output_field=models.CharField()),
        subject=F(subject) if isinstance(subject, str) else subject,
        title=F("source_title"),
        page=F("source_url"),  # not "url": a next step has a field of that name
        as_of=F("source_as_of"),
        approximate=F("source_as_of_approximate"),
    )


def sources_by_age(
    today: dt.date, *, older_than_days: int | None = None, limit: int = SOURCES_SHOWN
) -> tuple[list[SourceAge], int]:
    """The oldest `limit` sources of published routes (only those more than `older_than_days`
    old, if given), and how many there are in all: two queries."""
    stale_before = None if older_than_days is None else engine.days_after(today, -older_than_days)
    every = _sources(
        RequirementValue.objects.all(),
        "requirement__route",
        "gate",
        "requirement__question__key",
        stale_before,
    ).union(
        _sources(KeyFact.objects.all(), "route", "key fact", "topic", stale_before),
        _sources(OpenQuestion.objects.all(), "route", "open question", "topic", stale_before),
        _sources(
            NextStep.objects.all(),
            "route",
            "next step",
            Cast("order", output_field=models.CharField()),
            stale_before,
        ),
        all=True,
    )
    oldest = every.order_by("as_of", "route_name", "kind", "subject")[:limit]
    return [_source_age(row, today) for row in oldest], every.count()


_FACT_TOPICS = {topic.value: topic.label for topic in engine.FactTopic}


def _source_age(row: dict[str, Any], today: dt.date) -> SourceAge:
    kind, subject = row["kind"], row["subject"]
    return SourceAge(
        route_id=row["route_pk"],
        route=f"{row['route_name']} ({row['route_country']})",
        kind=kind,
        subject=_FACT_TOPICS.get(subject, subject) if kind == "key fact" else subject,
        title=row["title"],
        url=row["page"],
        as_of=row["as_of"],
        approximate=row["approximate"],
        age_days=(today - row["as_of"]).days,
    )


def drafts_awaiting_review() -> list[DraftWaiting]:
    """Draft copies of published routes, and routes off the site edited since they were last
    published (new routes, and withdrawn ones being brought back); the longest waiting first:
    one query. A withdrawn route nobody has touched since is not waiting for anything."""
    last_published = (
        RouteRevision.objects.filter(route=OuterRef("pk"))
        .order_by("-published_at")
        .values("published_at")[:1]
    )
    off_site = Q(status=Route.Status.DRAFT, draft_of__isnull=True)
    routes: QuerySet[Route] = Route.objects.select_related("draft_of", "drafted_by")
    drafts = (
        routes.annotate(last_published=Subquery(last_published))
        .filter(
            Q(draft_of__isnull=False)
            | off_site & Q(last_published__isnull=True)
            | off_site & Q(updated_at__gt=F("last_published"))
        )
        .order_by("updated_at", "pk")
    )
    return [
        DraftWaiting(
            draft=draft,
            replaces=draft.draft_of,
            withdrawn=draft.last_published is not None and draft.draft_of is None,
            drafted_by=adviser_name(draft.drafted_by) if draft.drafted_by else "",
            change_note=draft.change_note,
            edited_at=draft.updated_at,
        )
        for draft in drafts
    ]


def failing_scenarios() -> list[ScenarioRun]:
    """Expectations the published rules do not meet."""
    return [run for run in run_scenarios(rules.current_rulebook()) if not run.passed]


def review_queue(today: dt.date) -> ReviewQueue:
    sources, sources_total = sources_by_age(today)
    return ReviewQueue(
        today=today,
        overdue=overdue_routes(today),
        sources=sources,
        sources_total=sources_total,
        drafts=drafts_awaiting_review(),
        failing=failing_scenarios(),
    )


@require_safe
def review_dashboard(request: HttpRequest) -> HttpResponse:
    """The advisers' review queue (admin → Routes → Review queue)."""
    if not request.user.has_perm("eligibility.view_route"):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Review queue",
        "queue": review_queue(timezone.localdate()),
    }
    return render(request, "admin/eligibility/review.html", context)


def digest(today: dt.date, *, stale_after_days: int = STALE_AFTER_DAYS) -> str:
    """The weekly digest: published routes overdue for review, sources older than
    `stale_after_days`, and drafts waiting for a reviewer, as plain text."""
    lines = [f"Route Finder review digest, {_day(today)}", ""]
    routes = overdue_routes(today)
    lines.append(f"Overdue for review: {len(routes) or 'none'}")
    for item in routes:
        route = item.route
        draft = " A draft of it is open." if item.draft_id else ""
        lines.append(
            f"- {route} [{route.slug}]: due {_day(item.due_on)}, "
            f"{_count(item.days_overdue, 'day')} overdue; last verified "
            f"{_day(route.last_verified_on)} by {_one_line(route.last_verified_by)}.{draft}"
        )
    stale, stale_total = sources_by_age(today, older_than_days=stale_after_days)
    lines += ["", f"Sources older than {stale_after_days} days: {stale_total or 'none'}"]
    for source in stale:
        about = "about " if source.approximate else ""
        lines.append(
            f"- {source.route}, {source.kind} {source.subject}: {_one_line(source.title)}, "
            f"as of {about}{_day(source.as_of)} ({source.age_days} days), {source.url}"
        )
    if stale_total > len(stale):
        lines.append(f"- and {stale_total - len(stale)} more.")
    drafts = drafts_awaiting_review()
    lines += ["", f"Drafts awaiting review: {len(drafts) or 'none'}"]
    for waiting in drafts:
        if waiting.replaces:
            replaces = f"draft of {waiting.replaces.slug}"
        else:
            replaces = "withdrawn, to publish again" if waiting.withdrawn else "new route"
        by = f", by {waiting.drafted_by}" if waiting.drafted_by else ""
        note = f": {_one_line(waiting.change_note)}" if waiting.change_note.strip() else ""
        lines.append(
            f"- {waiting.draft} ({replaces}){by}, last edited "
            f"{_day(timezone.localdate(waiting.edited_at))}{note}"
        )
    return "\n".join(lines) + "\n"


def _day(day: dt.date) -> str:
    return f"{day:%d %b %Y}"


def _one_line(text: str) -> str:
    return " ".join(text.split())
