"""Which rows of a change form are in error, named as advisers see them, so that the error note
of a route with 300 gates says where to look: "gate 3 (Offered salary, pathway standard) —
explanation"."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse

from eligibility.models import (
    KeyFact,
    NextStep,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
    ScenarioExpectation,
)


class RowErrorsMixin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Adds `error_rows` to the change form: one line per inline row or set of rows in error
    (templates/admin/eligibility/change_form.html lists them under the error note)."""

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> HttpResponse:
        context["error_rows"] = error_rows(
            inline.formset for inline in context.get("inline_admin_formsets", ())
        )
        return super().render_change_form(request, context, *args, **kwargs)


def error_rows(formsets: Iterable[forms.BaseFormSet]) -> list[str]:  # type: ignore[type-arg]
    """One line per form in error ("key fact “Fees” — source URL") and one per set of rows
    whose rows disagree ("dated values: Two values are in force from …")."""
    rows = []
    for formset in formsets:
        for number, form in enumerate(formset.forms, start=1):
            if not form.errors or getattr(form, "cleaned_data", {}).get("DELETE"):
                continue
            rows.append(f"{row_name(form, number)} — {', '.join(_what_is_wrong(form))}")
        model = getattr(formset, "model", None)
        plural = str(model._meta.verbose_name_plural) if model is not None else "rows"
        rows += [f"{plural}: {message}" for message in formset.non_form_errors()]
    return rows


def row_name(form: forms.BaseForm, number: int) -> str:
    """The row as the adviser sees it on the page, from what was posted."""
    instance = getattr(form, "instance", None)
    if isinstance(instance, Requirement):
        question = _shown(form, "question")
        if not isinstance(question, Question):
            pk = _as_int(question)
            question = Question.objects.filter(pk=pk).first() if pk is not None else None
        named = (question.short_label or question.label) if question else "no question"
        pathway = _shown(form, "pathway")
        within = f"pathway {pathway}" if pathway else "every pathway"
        order = _shown(form, "order")
        shown_order = number if order in (None, "") else order
        return f"gate {shown_order} ({named[:1].upper()}{named[1:]}, {within})"
    if isinstance(instance, RequirementValue):
        start = _day(_shown(form, "effective_from")) or "the start"
        end = _day(_shown(form, "effective_until")) or "no end"
        return f"dated value {number} (from {start} to {end})"
    if isinstance(instance, KeyFact):
        topic = _shown(form, "topic")
        labels = {t.value: t.label for t in KeyFact.Topic}
        label = labels.get(str(topic), str(topic or "no topic"))
        return f"key fact “{label}”"
    if isinstance(instance, OpenQuestion):
        return f"open question “{_shown(form, 'topic') or number}”"
    if isinstance(instance, NextStep):
        order = _shown(form, "order")
        return f"next step {number if order in (None, '') else order}"
    if isinstance(instance, ScenarioExpectation):
        route = _shown(form, "route")
        if not isinstance(route, Route):
            pk = _as_int(route)
            route = Route.objects.filter(pk=pk).first() if pk is not None else None
        return f"expectation {number} ({route or 'no route'})"
    meta = getattr(instance, "_meta", None)
    return f"{meta.verbose_name if meta else 'row'} {number}"


def _what_is_wrong(form: forms.BaseForm) -> list[str]:
    """The labels of the fields in error, and what is wrong with the row as a whole."""
    labels = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            labels += [str(message) for message in errors]
            continue
        label = str(form.fields[name].label or name.replace("_", " "))
        acronym = label[1:2].isupper()
        labels.append(label if acronym else label[:1].lower() + label[1:])
    return labels


def _shown(form: forms.BaseForm, name: str) -> Any:
    """A field as posted: read, where it reads, else as typed."""
    cleaned = getattr(form, "cleaned_data", {})
    if name in cleaned:
        return cleaned[name]
    if name in form.fields:
        return form[name].value()
    return getattr(form.instance, name, None) if hasattr(form, "instance") else None


def _day(value: Any) -> str:
    if isinstance(value, dt.date):
        return f"{value:%d %b %Y}"
    return str(value or "").strip()


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
