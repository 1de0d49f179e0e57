"""Changing a published route safely, as GOV.UK's publishing does: an adviser edits a draft
copy of the route while applicants keep the published rules; a second adviser with the publish
permission checks the draft (its preview, its impact, its scenarios) and publishes it. Every
publication is kept as a revision, and reverting to one opens a new draft that goes through
the same review."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from eligibility import catalogue, checks, engine, questionnaire, results
from eligibility.advisers import scenarios
from eligibility.models import Answer, Assessment, Question, Route, RouteRevision, Scenario
from eligibility.rules import load_rulebook, rulebook_with_draft

# The impact report shows this many examples of changed verdicts.
EXAMPLES = 20
# It re-evaluates at most this many saved assessments, the most recent (about 2 s on the
# largest route): a reviewer waits for the page.
ASSESSMENTS_CHECKED = 5000


class PublishRefused(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def snapshot(route: Route, *, as_published: bool = False) -> dict[str, Any]:
    """The route's catalogue entry as a revision keeps it; `as_published` gives a draft the
    status publishing it would give."""
    entry = catalogue.snapshot(route)
    if as_published and route.status == Route.Status.DRAFT:
        entry["status"] = Route.Status.DRAFT if route.withdraw else Route.Status.PUBLISHED
    return entry


def _questions() -> dict[str, Question]:
    return {q.key: q for q in Question.objects.all()}


def _draft_slug(slug: str) -> str:
    return f"{slug[:53]}-draft"


@transaction.atomic
def _draft_from(data: dict[str, Any], route: Route, user: Any, note: str = "") -> Route:
    """A draft copy of `route` holding a catalogue entry (the route now, or a revision)."""
    return catalogue.new_route(
        data,
        _questions(),
        f"draft of {route.slug}",
        slug=_draft_slug(route.slug),
        status=Route.Status.DRAFT,
        draft_of=route,
        drafted_by=user if user.is_authenticated else None,
        change_note=note,
    )


@transaction.atomic
def open_draft(route: Route, user: Any) -> Route:
    """The route's draft, made from the route as published if it has none. A draft copy or
    a route that was never published is its own draft. Refused, changing nothing, when a
    stored row of the route cannot be read (written by SQL, or older than a check)."""
    if route.status == Route.Status.DRAFT:
        return route
    existing = route.drafts.first()
    if existing is not None:
        return existing
    try:
        record_first_revision(route)
        return _draft_from(catalogue.snapshot(route), route, user)
    except catalogue.CatalogueError as exc:
        raise PublishRefused(
            [
                f"No draft was made: a stored rule of the route cannot be read ({exc}). "
                "Ask a developer to correct it; manage.py check_catalogue lists it."
            ]
        ) from None


@transaction.atomic
def revert_to(revision: RouteRevision, user: Any) -> Route:
    """A draft holding the route as this revision published it, for review like any other."""
    route = revision.route
    if route.drafts.exists():
        raise PublishRefused(
            ["The route already has a draft: publish or discard it before reverting."]
        )
    note = f"Revert to revision {revision.number} of {revision.published_at:%d %b %Y}."
    try:
        return _revert(revision, route, user, note)
    except catalogue.CatalogueError as exc:
        raise PublishRefused(
            [f"Revision {revision.number} cannot be restored: it no longer reads ({exc})."]
        ) from None


def _revert(revision: RouteRevision, route: Route, user: Any, note: str) -> Route:
    if route.status == Route.Status.PUBLISHED:
        return _draft_from(revision.snapshot, route, user, note)
    # Withdrawn since, so the route is its own draft: it takes the revision in place.
    route.drafted_by, route.change_note = user, note
    catalogue.overwrite_route(
        route, {**revision.snapshot, "status": Route.Status.DRAFT}, _questions(), route.slug
    )
    return route


def authors(draft: Route) -> set[int]:
    """Everyone who made or edited the draft: none of them may publish it."""
    actors = set(
        LogEntry.objects.filter(additional_data__route_id=draft.pk, actor__isnull=False)
        .values_list("actor_id", flat=True)
        .distinct()
    )
    if draft.drafted_by_id is not None:
        actors.add(draft.drafted_by_id)
    return actors


def author_names(draft: Route) -> list[str]:
    users = get_user_model().objects.filter(pk__in=authors(draft))
    return sorted(u.get_full_name() or u.get_username() for u in users)


def actor_name(entry: LogEntry, unknown: str = "import or script") -> str:
    """Who made a logged change: the adviser, else the operating-system user who ran
    import_routes (user@host), else `unknown` (a script that named nobody)."""
    if entry.actor is not None:
        return str(entry.actor.get_username())
    return str(entry.actor_email or unknown)


@dataclass(frozen=True)
class Edit:
    """One save: who, when, and each field's old and new value on each row it touched."""

    actor: str
    at: dt.datetime
    lines: list[tuple[str, str, str, str]]  # row, field, old, new


def draft_edits(route: Route, limit: int = 200) -> list[Edit]:
    """The audit log of a route (a draft's edits), grouped per save, newest first."""
    entries = (
        LogEntry.objects.filter(additional_data__route_id=route.pk)
        .select_related("actor")
        .order_by("-timestamp")[:limit]
    )
    edits: list[Edit] = []
    for entry in entries:
        actor = actor_name(entry)
        at = entry.timestamp.replace(microsecond=0)
        action = {0: "added", 1: "changed", 2: "deleted"}.get(entry.action, "changed")
        lines = [
            (entry.object_repr, name, str(old), str(new))
            for name, (old, new) in (entry.changes_dict or {}).items()
        ] or [(entry.object_repr, action, "", "")]
        if action != "changed":
            lines = [(entry.object_repr, action, "", "")]
        if edits and edits[-1].actor == actor and abs((edits[-1].at - at).total_seconds()) <= 2:
            edits[-1].lines.extend(lines)
        else:
            edits.append(Edit(actor, at, lines))
    return edits


def route_problems(draft: Route, today: dt.date) -> list[str]:
    """What check_catalogue says about the draft, checked as it will be: published."""
    route = Route.objects.with_rules().get(pk=draft.pk)
    if draft.draft_of_id is not None:
        route.status = Route.Status.PUBLISHED
    return checks.route_problems(route, today)


@dataclass(frozen=True)
class VerdictShift:
    before: str
    after: str
    count: int

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Example:
    what: str  # a scenario's name, or "a saved assessment of <date>"
    before: str
    after: str
    answers: list[tuple[str, str]]


@dataclass
class Impact:
    """What publishing the draft would change, for the reviewer."""

    slug: str
    scenario_shifts: list[VerdictShift] = field(default_factory=list)
    assessment_shifts: list[VerdictShift] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    failing: list[scenarios.ScenarioRun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    assessments: int = 0  # re-evaluated
    live_assessments: int = 0  # kept in all
    unreadable: int = 0

    @property
    def changed(self) -> int:
        return sum(s.count for s in self.scenario_shifts + self.assessment_shifts if s.changed)


def _label(verdict: engine.Verdict | None) -> str:
    return verdict.label if verdict is not None else "Not listed"


def _verdict(
    route: engine.RouteRules | None, answers: dict[str, Any], on: dt.date
) -> engine.Verdict | None:
    if route is None:
        return None
    checks = engine.gate_outcomes(route, answers, on)  # the verdict alone: no wording
    return engine.verdict_of(route, [(gate, check.outcome) for gate, check in checks], on)


def _route(book: engine.RuleBook, slug: str) -> engine.RouteRules | None:
    return next((r for r in book.routes if r.slug == slug), None)


def impact(draft: Route, today: dt.date | None = None) -> Impact:
    today = today or timezone.localdate()
    slug = draft.published_slug
    before, after = load_rulebook(), rulebook_with_draft(draft)
    old_route, new_route = _route(before, slug), _route(after, slug)
    result = Impact(slug=slug, problems=route_problems(draft, today))
    scenario_counts: Counter[tuple[str, str]] = Counter()
    for scenario in Scenario.objects.order_by("name"):
        try:
            answers = scenarios.parse_answers(scenario.answers, after)
        except ValueError:
            continue  # run_scenarios reports it as failing
        old = _verdict(old_route, answers, scenario.on)
        new = _verdict(new_route, answers, scenario.on)
        scenario_counts[(_label(old), _label(new))] += 1
        if old != new and len(result.examples) < EXAMPLES:
            result.examples.append(
                Example(
                    scenario.name, _label(old), _label(new), results.display_answers(after, answers)
                )
            )
    assessment_counts: Counter[tuple[str, str]] = Counter()
    result.live_assessments = Assessment.objects.live().count()
    seen: dict[str, tuple[engine.Verdict | None, engine.Verdict | None]] = {}
    for created_at, rows in _saved_answers():
        result.assessments += 1
        answers = questionnaire.parse_stored(after, rows)
        key = json.dumps(sorted(rows), cls=DjangoJSONEncoder)  # same answers, same verdicts
        try:
            if key not in seen:
                seen[key] = (
                    _verdict(old_route, answers, today),
                    _verdict(new_route, answers, today),
                )
        except (ValueError, TypeError, ArithmeticError):
            result.unreadable += 1
            continue
        old, new = seen[key]
        assessment_counts[(_label(old), _label(new))] += 1
        if old != new and len(result.examples) < EXAMPLES:
            result.examples.append(
                Example(
                    f"A saved assessment of {created_at:%d %b %Y}",
                    _label(old),
                    _label(new),
                    results.display_answers(after, answers),
                )
            )
    result.scenario_shifts = _shifts(scenario_counts)
    result.assessment_shifts = _shifts(assessment_counts)
    result.failing = [run for run in scenarios.run_scenarios(after) if not run.passed]
    return result


def _saved_answers() -> Iterator[tuple[dt.datetime, list[tuple[str, Any]]]]:
    """Each live assessment's answers, newest first, in two queries and without model rows
    (a busy week keeps tens of thousands)."""
    assessments = Assessment.objects.live().order_by("-updated_at")[:ASSESSMENTS_CHECKED]
    created = dict(assessments.values_list("pk", "created_at"))
    rows: dict[int, list[tuple[str, Any]]] = {pk: [] for pk in created}
    answers = Answer.objects.filter(assessment__in=list(created))
    for pk, key, value in answers.values_list("assessment_id", "question_key", "value").iterator(
        chunk_size=5000
    ):
        if pk in rows:
            rows[pk].append((key, value))
    for pk, answered in rows.items():
        yield created[pk], answered


def _shifts(counts: Counter[tuple[str, str]]) -> list[VerdictShift]:
    return [
        VerdictShift(before, after, n)
        for (before, after), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def refusals(draft: Route, user: Any, found: Impact | None = None) -> list[str]:
    """Why this user may not publish this draft now; empty when they may."""
    reasons = []
    if not user.has_perm("eligibility.publish_route"):
        reasons.append("Publishing needs the Reviewer role (the publish permission).")
    if user.pk in authors(draft):
        reasons.append(
            "You made or edited this draft: a second adviser must review and publish it."
        )
    if found is not None:
        failing, problems = len(found.failing), len(found.problems)
    else:  # what publishing needs, without the saved assessments' verdicts
        runs = scenarios.run_scenarios(rulebook_with_draft(draft))
        failing = sum(not run.passed for run in runs)
        problems = len(route_problems(draft, timezone.localdate()))
    if failing:
        reasons.append(f"{failing} scenario check(s) fail against the draft.")
    if problems:
        reasons.append(f"check_catalogue finds {problems} problem(s) in the draft.")
    return reasons


@transaction.atomic
def publish(draft: Route, user: Any) -> RouteRevision:
    """Publish the draft over its route (or publish a new route), after the checks."""
    locked = Route.objects.select_for_update().filter(pk=draft.pk).first()
    if locked is None or locked.status != Route.Status.DRAFT:
        raise PublishRefused(["This draft was published or discarded meanwhile."])
    draft = locked
    reasons = refusals(draft, user)
    if reasons:
        raise PublishRefused(reasons)
    status = Route.Status.DRAFT if draft.withdraw else Route.Status.PUBLISHED
    note, drafted_by = draft.change_note, draft.drafted_by
    if draft.draft_of_id is None:
        target = draft
        target.status, target.withdraw, target.drafted_by, target.change_note = (
            status,
            False,
            None,
            "",
        )
        target.save()
    else:
        data = {**catalogue.snapshot(draft), "status": status}
        target = Route.objects.select_for_update().get(pk=draft.draft_of_id)
        record_first_revision(target)
        draft.delete()
        catalogue.overwrite_route(target, data, _questions(), target.slug, keep=("slug",))
    return catalogue.record_revision(
        target, change_note=note, drafted_by=drafted_by, published_by=user
    )


def record_first_revision(route: Route) -> RouteRevision | None:
    """A route published before revisions were kept gets its current state as revision 1,
    so that later changes can be compared with it and reverted to it."""
    if route.status != Route.Status.PUBLISHED or route.revisions.exists():
        return None
    return catalogue.record_revision(route, change_note="As first recorded.")
