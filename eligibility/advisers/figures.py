"""New figures from a date, for every gate of a route on one page: the yearly salary update
(“the 2027 thresholds”) is one date, one source and a value per gate, instead of ending and
adding dated values gate by gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from eligibility import answers, engine
from eligibility.models import VALUELESS, Requirement, RequirementValue, Route, page_url


@dataclass(frozen=True)
class FigureRow:
    gate: Requirement
    field: str
    in_force: RequirementValue | None  # on the date
    pattern: RequirementValue | None  # the latest earlier value with a figure: its certainty

    @property
    def note_field(self) -> str:
        return f"{self.field}_note"

    @property
    def certainty(self) -> engine.Certainty:
        """A new figure keeps the kind of the last one: a threshold stays settled, an
        approval band stays a chance."""
        if self.pattern is not None and self.pattern.certainty == engine.Certainty.CHANCE:
            return engine.Certainty.CHANCE
        return engine.Certainty.SETTLED


def _in_force(values: list[RequirementValue], on: dt.date) -> RequirementValue | None:
    return next(
        (
            v
            for v in values
            if (v.effective_from or dt.date.min) <= on <= (v.effective_until or dt.date.max)
        ),
        None,
    )


NUMBERS = (engine.Kind.INTEGER, engine.Kind.DECIMAL, engine.Kind.MONEY)


def figure_rows(route: Route, on: dt.date, *, every_gate: bool = False) -> list[FigureRow]:
    """Each gate of the route that checks a number (every gate with `every_gate`), with the
    value in force on `on` and the one it would follow."""
    gates = route.requirements.select_related("question").prefetch_related("values")
    if not every_gate:
        gates = gates.filter(question__kind__in=NUMBERS)
    rows = []
    for gate in gates.order_by("order", "id"):
        values = sorted(gate.values.all(), key=lambda v: v.effective_from or dt.date.min)
        earlier = [
            v
            for v in values
            if (v.effective_from or dt.date.min) < on and v.certainty not in VALUELESS
        ]
        pattern = earlier[-1] if earlier else None
        rows.append(FigureRow(gate, f"gate_{gate.pk}", _in_force(values, on), pattern))
    return rows


def _shown(value: RequirementValue | None) -> str:
    if value is None:
        return "nothing"
    if value.value is None:
        return value.get_certainty_display().lower()
    shown = answers.rule_value_text(value.value)
    if value.certainty != engine.Certainty.SETTLED:
        return f"{shown} ({value.get_certainty_display().lower()})"
    return str(shown)


def gate_name(gate: Requirement) -> str:
    return (
        f"{gate.order}. {gate.pathway or 'Every pathway'}: "
        f"{gate.question.short_label or gate.question.label} {gate.get_operator_display()}"
    )


class NewFiguresForm(forms.Form):
    effective_from = forms.DateField(
        label="In force from", help_text="The first day of the new figures, e.g. 2027-01-01."
    )
    source_title = forms.CharField(max_length=300, label="Source title")
    source_url = forms.URLField(
        max_length=500,
        label="Source page",
        validators=[page_url],
        help_text="The page that publishes the new figures, not the site's home page.",
    )
    source_as_of = forms.DateField(label="Source as of")

    def __init__(self, *args: Any, rows: list[FigureRow], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows = rows
        for row in rows:
            self.fields[row.field] = forms.CharField(
                required=False,
                max_length=1000,
                label=gate_name(row.gate),
                help_text=f"Now: {_shown(row.in_force)}. Blank: unchanged.",
            )
            if row.certainty == engine.Certainty.CHANCE:
                # The last note may quote the old figure: a new one is written, never copied.
                last = row.pattern.note if row.pattern else ""
                self.fields[row.note_field] = forms.CharField(
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2}),
                    label=f"{gate_name(row.gate)}: what decides",
                    help_text="Needed with a new figure: this gate is a chance (an approval). "
                    f"The last note said: “{last}”",
                )

    def clean_source_as_of(self) -> dt.date:
        day: dt.date = self.cleaned_data["source_as_of"]
        if day > timezone.localdate():
            raise ValidationError("This is in the future: give the day the page said it.")
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.figures: dict[int, Any] = {}
        for row in self.rows:
            text = (data.get(row.field) or "").strip()
            if not text:
                continue
            try:
                self.figures[row.gate.pk] = answers.parse_rule_value(
                    row.gate.question.as_rule(), engine.Operator(row.gate.operator), text
                )
            except (ValueError, ArithmeticError) as exc:
                self.add_error(row.field, str(exc))
            note = (data.get(row.note_field) or "").strip()
            if row.certainty == engine.Certainty.CHANCE and not note:
                self.add_error(row.note_field, "Say what decides with the new figure.")
        if not self.figures and not self.errors:
            raise ValidationError("Give at least one new figure.")
        return data


@transaction.atomic
def apply_figures(form: NewFiguresForm) -> int:
    """Each new figure from the date: a value already starting that day (an “unclear from
    2027” placeholder) takes it; otherwise the value in force ends the day before and the
    figure runs until the next value starts. Returns how many gates changed."""
    data = form.cleaned_data
    on: dt.date = data["effective_from"]
    source = {
        "source_title": data["source_title"],
        "source_url": data["source_url"],
        "source_as_of": data["source_as_of"],
        "source_as_of_approximate": False,
    }
    for row in form.rows:
        if row.gate.pk not in form.figures:
            continue
        values = sorted(row.gate.values.all(), key=lambda v: v.effective_from or dt.date.min)
        later = [v.effective_from for v in values if v.effective_from and v.effective_from > on]
        current = row.in_force
        fields = {
            "value": form.figures[row.gate.pk],
            "certainty": row.certainty,
            "note": (data.get(row.note_field) or "").strip(),
            **source,
        }
        if current is not None and current.effective_from == on:
            target = current
            for name, value in fields.items():
                setattr(target, name, value)
        else:
            if current is not None:
                current.effective_until = on - dt.timedelta(days=1)
                current.full_clean()
                current.save()
            until = later[0] - dt.timedelta(days=1) if later else None
            target = RequirementValue(
                requirement=row.gate, effective_from=on, effective_until=until, **fields
            )
        target.full_clean()
        target.save()
    return len(form.figures)
