"""The advisers' workspace: routes with their requirements, key facts and open questions."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from eligibility import answers, engine
from eligibility.models import (
    VALUELESS,
    KeyFact,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
)


def _value_as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and "years_before" in value:
        return f"years_before:{value['years_before']}"
    return str(value)


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
            self.initial["value"] = _value_as_text(self.instance.value)

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


class RequirementValueInline(admin.StackedInline):  # type: ignore[type-arg]
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


class SourcedInline(admin.StackedInline):  # type: ignore[type-arg]
    extra = 0
    show_change_link = False


class RequirementInline(admin.TabularInline):  # type: ignore[type-arg]
    """Gates on the route page; their dated values are edited on each gate's own page."""

    model = Requirement
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
                f"{_value_as_text(v.value) or v.get_certainty_display()} "
                f"from {v.effective_from or 'the start'}"
                f"{f' to {v.effective_until}' if v.effective_until else ''}"
                for v in requirement.values.all()
            )
            or "No values: unknown on every date"
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Requirement]:
        return super().get_queryset(request).select_related("question").prefetch_related("values")


@admin.register(Requirement)
class RequirementAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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
    ]


SOURCE_FIELDS = ("source_title", "source_url", "source_as_of", "source_as_of_approximate")


class KeyFactInline(SourcedInline):
    model = KeyFact
    fields = [("topic", "unclear"), "text", SOURCE_FIELDS]


class OpenQuestionInline(SourcedInline):
    model = OpenQuestion
    fields = [("topic", "order"), "text", "show_if", SOURCE_FIELDS]


class OverdueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue for review"), ("current", "Up to date")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Route]) -> QuerySet[Route]:
        today = timezone.localdate()
        overdue = [r.pk for r in queryset if r.is_overdue(today)]
        if self.value() == "overdue":
            return queryset.filter(pk__in=overdue)
        if self.value() == "current":
            return queryset.exclude(pk__in=overdue)
        return queryset


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "country", "slug", "status", "last_verified_on", "review_state"]
    list_filter = ["country", "status", OverdueFilter]
    search_fields = ["name", "slug", "official_name", "summary"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [RequirementInline, KeyFactInline, OpenQuestionInline]
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
    ]

    @admin.display(description="Review")
    def review_state(self, route: Route) -> str:
        if route.is_overdue():
            return f"Overdue since {route.review_due_on:%d %b %Y}"
        return f"Due {route.review_due_on:%d %b %Y}"


class QuestionForm(forms.ModelForm):  # type: ignore[type-arg]
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
class QuestionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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
