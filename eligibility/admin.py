"""The advisers' workspace: routes with their requirements, key facts and open questions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from eligibility import answers, engine
from eligibility.models import KeyFact, OpenQuestion, Question, Requirement, Route


def _value_as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and "years_before" in value:
        return f"years_before:{value['years_before']}"
    return str(value)


class RequirementForm(forms.ModelForm):  # type: ignore[type-arg]
    """The value is typed as plain text and checked against the question's kind, so that
    "≥ abc" on a whole-number question is refused with a message that says why."""

    value = forms.CharField(
        required=False,
        help_text="A number (50700), a choice (bachelor), a country code (DE), yes/no, a list "
        "for “is one of” (top100, top200), or years_before:3 for a year relative to today. "
        "Leave blank for “is answered” and for unclear rules.",
    )

    class Meta:
        model = Requirement
        fields = "__all__"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["value"] = _value_as_text(self.instance.value)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        question, operator = data.get("question"), data.get("operator")
        text = (data.get("value") or "").strip()
        if question is None or not operator:
            return data
        if data.get("certainty") == engine.Certainty.UNCLEAR and not text:
            data["value"] = None
            return data
        try:
            data["value"] = answers.parse_rule_value(
                question.as_rule(), engine.Operator(operator), text
            )
        except answers.AnswerError as exc:
            self.add_error("value", str(exc))
        return data


class SourcedInline(admin.StackedInline):  # type: ignore[type-arg]
    extra = 0
    show_change_link = False


class RequirementInline(SourcedInline):
    model = Requirement
    form = RequirementForm
    autocomplete_fields = ["question"]
    fieldsets = [
        (None, {"fields": [("pathway", "order"), ("question", "operator", "value"), "certainty"]}),
        ("Points", {"fields": [("points", "points_group")], "classes": ["collapse"]}),
        ("Wording for applicants", {"fields": ["met_text", "not_met_text"]}),
        ("In force", {"fields": [("effective_from", "effective_until")]}),
        ("Source", {"fields": [("source_title", "source_url", "source_as_of")]}),
    ]


class KeyFactInline(SourcedInline):
    model = KeyFact
    fields = [("topic", "unclear"), "text", ("source_title", "source_url", "source_as_of")]


class OpenQuestionInline(SourcedInline):
    model = OpenQuestion
    fields = [("topic", "order"), "text", "show_if", ("source_title", "source_url", "source_as_of")]


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
        ("Points and money", {"fields": [("points_needed", "points_table_partial"), "currency"]}),
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
