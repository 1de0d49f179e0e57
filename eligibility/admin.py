"""The advisers' workspace: routes with their requirements, key facts, open questions and
next steps."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin
from django.contrib.admin.options import ActionLocation
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from eligibility import answers, engine
from eligibility.advisers import drafts, scenarios, views
from eligibility.advisers.errors import RowErrorsMixin
from eligibility.advisers.review import OverdueFilter, mark_verified_today, review_dashboard
from eligibility.models import (
    MOST_NEXT_STEPS,
    VALUELESS,
    KeyFact,
    NextStep,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
    Scenario,
    ScenarioExpectation,
)
from eligibility.rules import load_rulebook


class ReadableJSONField(forms.JSONField):
    """Django's JSON field lets a 5,000-digit number or 100,000 nested lists through as a
    server error; here they are a message at the field."""

    message = "This JSON is too deep or holds too long a number to read."

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except (ValueError, RecursionError):
            raise ValidationError(self.message, code="invalid") from None

    def bound_data(self, data: Any, initial: Any) -> Any:
        try:
            return super().bound_data(data, initial)
        except (ValueError, RecursionError):
            return forms.fields.InvalidJSONInput(data)

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return super().has_changed(initial, data)
        except (ValueError, RecursionError):
            return True


READABLE_JSON: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.JSONField: {"form_class": ReadableJSONField}
}


def _editable(obj: Route | Requirement | None) -> bool:
    """Only drafts are edited: a published route changes by publishing a reviewed draft."""
    route = obj.route if isinstance(obj, Requirement) else obj
    return route is None or route.status == Route.Status.DRAFT


def _conflict_message(what: str, entries: QuerySet[LogEntry]) -> str:
    lines = []
    for entry in entries.select_related("actor").order_by("timestamp")[:8]:
        who = drafts.actor_name(entry, unknown="an import")
        changed = ", ".join(
            f"{name} {old} → {new}" for name, (old, new) in (entry.changes_dict or {}).items()
        )
        lines.append(
            f"{who} at {timezone.localtime(entry.timestamp):%H:%M}: {entry.object_repr}"
            + (f" ({changed})" if changed else "")
        )
    said = "; ".join(lines) or "another adviser saved it"
    return (
        f"This {what} was saved after you opened this page: {said}. Nothing of yours was "
        f"saved, and what you typed is still below: open the {what} in a new tab to see "
        "those changes, then apply yours there."
    )


class SaveGuardForm(forms.ModelForm):  # type: ignore[type-arg]
    """Refuses to save over someone else's save: the form remembers the newest audit-log
    entry of what it edits when it was opened, and a newer one at save time is a save made
    since. The refusal says who changed what, and everything typed stays in the form."""

    seen_entry = forms.CharField(widget=forms.HiddenInput, required=False)
    guarded = "row"

    def entries(self) -> QuerySet[LogEntry] | None:
        """The audit-log entries of what this form edits; None for a new row."""
        if self.instance.pk is None:
            return None
        entries: QuerySet[LogEntry] = LogEntry.objects.get_for_object(self.instance)
        return entries

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entries = self.entries()
        if entries is not None:
            newest = entries.order_by("-pk").values_list("pk", flat=True).first()
            self.fields["seen_entry"].initial = str(newest or 0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        seen = str(self.data.get(self.add_prefix("seen_entry"), ""))
        entries = self.entries()
        if entries is None or not seen.isdigit():
            return data
        newer = entries.filter(pk__gt=int(seen))
        if newer.exists():
            raise forms.ValidationError(_conflict_message(self.guarded, newer))
        return data


def _route_entries(route_id: int | None) -> QuerySet[LogEntry] | None:
    """A route's own entries and its rows' (gates, values, facts, open questions)."""
    if route_id is None:
        return None
    entries: QuerySet[LogEntry] = LogEntry.objects.filter(additional_data__route_id=route_id)
    return entries


class DraftOnlyInline:
    """Rows of a published route are shown, never edited, added or deleted in place."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _editable(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class RequirementValueForm(forms.ModelForm):  # type: ignore[type-arg]
    """The value is typed as plain text and checked against the gate's question and operator,
    by the same code that reads applicants' answers, so that "≥ abc" on a number is refused
    with a message that says why."""

    value = forms.CharField(
        required=False,
        max_length=1000,  # a long list of country codes; longer is a mistake, not a rule
        help_text="A number (50700), a choice (bachelor), a country code (DE), yes/no, a list "
        "for “is one of” (top100, top200), or years_before:3 for a date that many years before "
        "the day of the assessment. Leave blank for “is answered” and for unclear values.",
    )

    class Meta:
        model = RequirementValue
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["value"] = answers.rule_value_text(self.instance.value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.has_error("value"):  # too long to be a value
            return data
        # The gate as posted with this value (DatedValuesFormSet sets it), so that a value is
        # checked against the question and operator chosen on the same page, not the stored ones.
        requirement = getattr(self.instance, "requirement", None)
        text = (data.get("value") or "").strip()
        try:
            question = requirement.question.as_rule() if requirement else None
            operator = engine.Operator(requirement.operator) if requirement else None
        except (ObjectDoesNotExist, ValueError):
            question = operator = None
        if question is None or operator is None:
            # Also keeps the model from reading a value it has no question for.
            self.add_error(
                "value", "Choose the gate's question and operator; then the value is checked."
            )
            return data
        if data.get("certainty") in VALUELESS and not text:
            data["value"] = None
            return data
        try:
            data["value"] = answers.parse_rule_value(question, operator, text)
        except (ValueError, ArithmeticError) as exc:
            self.add_error("value", str(exc))
        return data


def _day(day: dt.date) -> str:
    return "the start" if day == dt.date.min else f"{day:%d %b %Y}"


class DatedValuesFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    """A gate needs at least one value, and two values may not be in force on the same day."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        form.instance.requirement = self.instance  # the gate as posted, saved or not

    def clean(self) -> None:
        super().clean()
        spans = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            start = data.get("effective_from") or dt.date.min
            end = data.get("effective_until") or dt.date.max
            if start <= end:  # else the form says its last day is before its first
                spans.append((start, end))
        if not spans and not any(form.errors for form in self.forms):
            raise forms.ValidationError(
                "Give the gate at least one value, or mark it unclear from a date."
            )
        spans.sort()
        for (_, end), (next_start, _) in itertools.pairwise(spans):
            if next_start <= end:
                raise forms.ValidationError(
                    f"Two values are in force from {_day(next_start)}: give the earlier one a "
                    "last day before the next one starts."
                )


class RequirementValueInline(DraftOnlyInline, admin.StackedInline):  # type: ignore[type-arg]
    model = RequirementValue
    form = RequirementValueForm
    formset = DatedValuesFormSet
    extra = 0
    fieldsets = [
        (None, {"fields": [("value", "certainty"), ("effective_from", "effective_until"), "note"]}),
        (
            "Source",
            {
                "fields": [
                    ("source_title", "source_url"),
                    ("source_as_of", "source_as_of_approximate"),
                ]
            },
        ),
    ]


class SourcedInline(DraftOnlyInline, admin.StackedInline):  # type: ignore[type-arg]
    extra = 0
    show_change_link = False


class GateRowForm(forms.ModelForm):  # type: ignore[type-arg]
    """A gate on the route page: a new question or operator must still read its stored values
    (they are edited on the gate's own page, so they cannot change here)."""

    class Meta:
        model = Requirement
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        changed = {"question", "operator"} & set(self.changed_data)
        question, operator = data.get("question"), data.get("operator")
        if self.instance.pk is None or not changed or question is None or not operator:
            return data
        for value in self.instance.values.all():
            if value.certainty in VALUELESS and value.value is None:
                continue
            try:
                answers.parse_rule_value(question.as_rule(), engine.Operator(operator), value.value)
            except (ValueError, ArithmeticError) as exc:
                self.add_error(
                    sorted(changed)[-1],
                    f"Its value {answers.rule_value_text(value.value)} would not read: {exc} "
                    "Change the values on the gate's page first.",
                )
                break
        return data


class RequirementInline(DraftOnlyInline, admin.TabularInline):  # type: ignore[type-arg]
    """Gates on the route page; their dated values are edited on each gate's own page."""

    formfield_overrides = READABLE_JSON

    model = Requirement
    form = GateRowForm
    extra = 0
    show_change_link = True
    autocomplete_fields = ["question"]
    fields = [
        "order",
        "pathway",
        "question",
        "operator",
        "points",
        "points_group",
        "explanation",
        "values_in_force",
    ]
    readonly_fields = ["values_in_force"]

    @admin.display(description="Values")
    def values_in_force(self, requirement: Requirement) -> str:
        if requirement.pk is None:
            return "Save, then add dated values on the gate's page."
        return (
            "; ".join(
                f"{answers.rule_value_text(v.value) or v.get_certainty_display()} "
                f"from {v.effective_from or 'the start'}"
                f"{f' to {v.effective_until}' if v.effective_until else ''}"
                for v in requirement.values.all()
            )
            or "No values: unknown on every date"
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        return super().get_queryset(request).select_related("question").prefetch_related("values")


class RequirementForm(SaveGuardForm):
    guarded = "route"

    class Meta:
        model = Requirement
        fields = "__all__"

    def entries(self) -> QuerySet[LogEntry] | None:
        return _route_entries(self.instance.route_id if self.instance.pk else None)


@admin.register(Requirement)
class RequirementAdmin(RowErrorsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = READABLE_JSON
    form = RequirementForm
    list_display = ["__str__", "route", "pathway", "question", "operator"]
    list_select_related = ["route", "question"]
    list_filter = ["route"]
    search_fields = ["route__slug", "route__name", "pathway", "question__key"]
    autocomplete_fields = ["question"]
    inlines = [RequirementValueInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "route",
                    ("pathway", "order"),
                    ("question", "operator"),
                    "explanation",
                    "applies_if",
                ]
            },
        ),
        ("Points", {"fields": [("points", "points_group")], "classes": ["collapse"]}),
        (None, {"fields": ["seen_entry"]}),
    ]

    def has_change_permission(self, request: HttpRequest, obj: Requirement | None = None) -> bool:
        return (obj is None or _editable(obj.route)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Requirement | None = None) -> bool:
        return (obj is None or _editable(obj.route)) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "route":
            kwargs["queryset"] = Route.objects.filter(status=Route.Status.DRAFT)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


SOURCE_FIELDS = ("source_title", "source_url", "source_as_of", "source_as_of_approximate")


class KeyFactInline(SourcedInline):
    model = KeyFact
    fields = [("topic", "unclear"), "text", SOURCE_FIELDS]


class OpenQuestionInline(SourcedInline):
    formfield_overrides = READABLE_JSON
    model = OpenQuestion
    fields = [("topic", "order"), "text", "show_if", SOURCE_FIELDS]


class NextStepsFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]
    """At most MOST_NEXT_STEPS steps, each in its own place in the order."""

    def add_fields(self, form: Any, index: int | None) -> None:
        super().add_fields(form, index)
        # The formset counts the steps as posted (deleted ones out); the model's own count
        # of stored steps would refuse deleting one step and adding another in one save.
        form.instance.counted_with_siblings = True

    def clean(self) -> None:
        kept = [
            form.cleaned_data
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]
        if len(kept) > MOST_NEXT_STEPS:
            raise forms.ValidationError(
                f"Give at most {MOST_NEXT_STEPS} next steps; this route has {len(kept)}."
            )
        orders: list[int] = [data["order"] for data in kept if data.get("order") is not None]
        repeated = sorted({order for order in orders if orders.count(order) > 1})
        if repeated:
            places = ", ".join(str(order) for order in repeated)
            raise forms.ValidationError(
                f"Two next steps have the same place in the order ({places}): give each its own."
            )
        super().clean()


class NextStepInline(SourcedInline):
    """What the applicant does next on this route, shown in this order with its page."""

    model = NextStep
    formset = NextStepsFormSet
    max_num = MOST_NEXT_STEPS
    validate_max = True
    fields = ["order", "text", "url", SOURCE_FIELDS]


class RouteForm(SaveGuardForm):
    guarded = "route"

    class Meta:
        model = Route
        fields = "__all__"

    def entries(self) -> QuerySet[LogEntry] | None:
        return _route_entries(self.instance.pk)


def _route_view(
    view: Callable[..., HttpResponse], site: admin.AdminSite
) -> Callable[..., HttpResponse]:
    return site.admin_view(functools.partial(view, site=site))


@admin.register(Route)
class RouteAdmin(RowErrorsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    form = RouteForm
    list_display = [
        "name",
        "country",
        "slug",
        "status",
        "draft_state",
        "last_verified_on",
        "review_state",
    ]
    list_filter = [OverdueFilter, "status", "country"]
    actions = [mark_verified_today]
    list_select_related = ["draft_of"]
    search_fields = ["name", "slug", "official_name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RequirementInline, KeyFactInline, OpenQuestionInline, NextStepInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("name", "slug"),
                    ("country", "status"),
                    "official_name",
                    "summary",
                    "official_url",
                ]
            },
        ),
        ("Open for applications", {"fields": [("opens_on", "closes_on")]}),
        (
            "Points and money",
            {
                "fields": [
                    ("points_needed", "points_table_partial"),
                    "points_table_partial_from",
                    "currency",
                ]
            },
        ),
        (
            "Verification",
            {"fields": [("last_verified_on", "last_verified_by"), "review_interval_days"]},
        ),
        ("This draft", {"fields": ["change_note", "withdraw", "seen_entry"]}),
    ]

    @admin.display(description="Review")
    def review_state(self, route: Route) -> str:
        if route.is_overdue():
            return f"Overdue since {route.review_due_on:%d %b %Y}"
        return f"Due {route.review_due_on:%d %b %Y}"

    @admin.display(description="Draft")
    def draft_state(self, route: Route) -> str:
        if route.draft_of is not None:
            return f"Draft of {route.draft_of.slug}"
        if route.status == Route.Status.DRAFT:
            return "New or withdrawn: not on the site"
        return ""

    def get_readonly_fields(self, request: HttpRequest, obj: Route | None = None) -> list[str]:
        # Publishing is the only way to publish; the verifier is whoever is logged in.
        fixed = ["status", "last_verified_by"]
        if obj is not None and obj.draft_of_id is not None:
            fixed.append("slug")  # the published route keeps its slug
        return fixed

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Route | None = None
    ) -> dict[str, Sequence[str]]:
        return {} if obj is not None and obj.draft_of_id is not None else {"slug": ["name"]}

    def get_fieldsets(self, request: HttpRequest, obj: Route | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and obj.status == Route.Status.PUBLISHED:
            return [f for f in fieldsets if f[0] != "This draft"]
        return fieldsets

    def has_change_permission(self, request: HttpRequest, obj: Route | None = None) -> bool:
        return _editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Route | None = None) -> bool:
        # A published route is closed (a closing date) or withdrawn through review; a draft
        # can be discarded.
        return _editable(obj) and super().has_delete_permission(request, obj)

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> Any:
        actions = super().get_actions(request, action_location=action_location)
        actions.pop("delete_selected", None)  # would bypass the per-route rule above
        return actions

    def save_model(self, request: HttpRequest, obj: Route, form: Any, change: bool) -> None:
        if not change or "last_verified_on" in form.changed_data or not obj.last_verified_by:
            user = request.user
            obj.last_verified_by = user.get_full_name() or user.get_username()  # type: ignore[union-attr]
        if not change and obj.drafted_by_id is None and request.user.is_authenticated:
            obj.drafted_by = request.user
        super().save_model(request, obj, form, change)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        """The route's history is its revisions and its draft's edits, with old and new values
        (Django's own history lists field names only)."""
        route = self.get_object(request, object_id)
        if route is None:
            return super().history_view(request, object_id, extra_context)
        target = route.draft_of_id or route.pk
        return HttpResponseRedirect(reverse("admin:eligibility_route_revisions", args=[target]))

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        pages = (
            ("<int:pk>/draft/", views.start_draft, "draft"),
            ("<int:pk>/figures/", views.new_figures, "figures"),
            ("<int:pk>/preview/", views.preview, "preview"),
            ("<int:pk>/impact/", views.impact, "impact"),
            ("<int:pk>/publish/", views.publish, "publish"),
            ("<int:pk>/revisions/", views.revisions, "revisions"),
            ("<int:pk>/revisions/<int:number>/revert/", views.revert, "revert"),
            ("<int:pk>/scenarios/", views.route_scenarios, "scenarios"),
        )
        own = [
            path("review/", site.admin_view(review_dashboard), name="eligibility_route_review"),
            *(
                path(route, _route_view(view, site), name=f"eligibility_route_{name}")
                for route, view, name in pages
            ),
        ]
        return own + super().get_urls()


class ExpectationInline(admin.TabularInline):  # type: ignore[type-arg]
    formfield_overrides = READABLE_JSON
    model = ScenarioExpectation
    extra = 1
    fields = ["route", "verdict", "reason_contains", "checks"]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "route":  # scenarios name routes as applicants know them
            kwargs["queryset"] = Route.objects.filter(draft_of__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScenarioForm(SaveGuardForm):
    guarded = "scenario"

    class Meta:
        model = Scenario
        fields = "__all__"
        widgets = {"answers": forms.Textarea(attrs={"rows": 8})}

    def clean_answers(self) -> Any:
        raw = self.cleaned_data.get("answers")
        if not isinstance(raw, dict):
            raise forms.ValidationError('Give an object of answers, e.g. {"age": 29}.')
        try:
            scenarios.parse_answers(raw, load_rulebook())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return raw


@admin.register(Scenario)
class ScenarioAdmin(RowErrorsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = READABLE_JSON
    form = ScenarioForm
    list_display = ["name", "on", "routes"]
    search_fields = ["name", "expectations__route__slug"]
    list_filter = ["expectations__route"]
    inlines = [ExpectationInline]
    actions = ["run"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Scenario]:
        return super().get_queryset(request).prefetch_related("expectations__route")

    @admin.display(description="Expects")
    def routes(self, scenario: Scenario) -> str:
        return ", ".join(
            f"{e.route.slug}: {e.get_verdict_display().lower()}"
            for e in scenario.expectations.all()
        )

    @admin.action(description="Run selected scenarios against the published rules")
    def run(self, request: HttpRequest, queryset: QuerySet[Scenario]) -> None:
        runs = scenarios.run_scenarios(
            load_rulebook(), queryset.prefetch_related("expectations__route")
        )
        failing = [run for run in runs if not run.passed]
        for run in failing[:20]:
            self.message_user(request, f"{run.scenario_name} / {run.slug}: {run.problem}", "error")
        self.message_user(
            request,
            f"{len(runs) - len(failing)} of {len(runs)} checks pass.",
            "success" if not failing else "warning",
        )


class QuestionForm(SaveGuardForm):
    guarded = "question"

    class Meta:
        model = Question
        fields = "__all__"
        widgets = {
            "choices": forms.Textarea(attrs={"rows": 4}),
            "ask_if": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_choices(self) -> Any:
        choices = self.cleaned_data.get("choices")
        try:
            answers.question_rule(key="x", label="x", kind="choice", choices=choices)
        except answers.AnswerError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return choices


@admin.register(Question)
class QuestionAdmin(RowErrorsMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    formfield_overrides = READABLE_JSON
    form = QuestionForm
    list_display = ["key", "label", "kind", "section", "order", "conditional"]
    list_filter = ["section", "kind"]
    search_fields = ["key", "label", "help_text"]
    ordering = ["order", "key"]

    @admin.display(boolean=True, description="Ask only if")
    def conditional(self, question: Question) -> bool:
        return bool(question.ask_if)

    def get_readonly_fields(self, request: HttpRequest, obj: Question | None = None) -> list[str]:
        # Keys are a stable interface (CLI, catalogue, rules): fixed once created.
        return ["key"] if obj is not None else []


class AuditLogEntryAdmin(LogEntryAdmin):  # type: ignore[misc]
    """auditlog's Log entries, naming the operating-system user (user@host) who ran
    import_routes where no adviser was named, rather than "system"."""

    @admin.display(description="User")
    def user_url(self, obj: LogEntry) -> str:
        if obj.actor is None and obj.actor_email:
            return str(obj.actor_email)
        return str(super().user_url(obj))


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogEntryAdmin)
