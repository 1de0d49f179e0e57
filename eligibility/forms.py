"""The one form of the questionnaire: an answer to one question, checked by its kind. The form
chooses its own widget by the question's kind; the template only draws it."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils import translation
from django_countries import countries

from eligibility import wording
from eligibility.answers import AmbiguousAmount, AnswerError, parse_answer, typed_currencies
from eligibility.engine import Kind, QuestionRule

# No answer to any question is longer: a country's name, an amount with its currency.
MOST_CHARACTERS = 100
PICKED_KINDS = frozenset({Kind.BOOLEAN, Kind.CHOICE, Kind.ORDINAL, Kind.COUNTRY, Kind.COUNTRIES})
TEXT_KINDS = frozenset({Kind.INTEGER, Kind.DECIMAL, Kind.MONEY})


class AnswerForm(forms.Form):
    """`answer` is the raw text or choice (several choices for checkboxes); pressing "I don't
    know" (`dont_know`) stores null whatever else was entered. `cleaned_data["answer"]` is the
    engine value. An amount that reads two ways is not an error but a question back: the form
    is not valid, `readings` holds both, and the page asks which was meant.

    `on` and `answers` (the saved ones) let a year about the past refuse the future."""

    # At most MOST_CHARACTERS, checked in clean_answer to say it the question's own way.
    answer = forms.CharField(required=False)
    # A second citizenship, for questions that take one or more countries.
    also = forms.CharField(required=False, max_length=100)
    dont_know = forms.BooleanField(required=False)

    def __init__(
        self,
        question: QuestionRule,
        *args: Any,
        currency: str = "",
        on: dt.date | None = None,
        answers: Mapping[str, Any] | None = None,
        year_question: QuestionRule | None = None,
        refused: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.question = question
        self.currency = currency
        self.on = on
        self.answers = answers or {}
        self.year_question = year_question  # for a month question: the year it is the month of
        self.refused = refused  # why this answer is not read at all (too many answers)
        self.readings: tuple[Decimal, ...] = ()

    # --- The widget -----------------------------------------------------------------------

    @property
    def widget(self) -> str:
        """ "text", "country" (a select), "countries" (a select and a second one),
        "checkboxes" (countries to pick from a list) or "radios"."""
        kind = self.question.kind
        if kind in TEXT_KINDS:
            return "text"
        if kind is Kind.COUNTRIES:
            return "checkboxes" if self.question.choices else "countries"
        if kind is Kind.COUNTRY:
            return "country"
        return "radios"

    @property
    def inputmode(self) -> str:
        return "numeric" if self.question.kind is Kind.INTEGER else "decimal"

    @property
    def input_class(self) -> str:
        return "input input-money" if self.question.kind is Kind.MONEY else "input input-short"

    @property
    def choices(self) -> list[tuple[str, str]]:
        kind = self.question.kind
        if kind is Kind.BOOLEAN:
            return [("yes", "Yes"), ("no", "No")]
        if self.widget in ("country", "countries"):
            return list(_country_choices(translation.get_language(), self.question.choices))
        return list(self.question.choices)

    @property
    def country_options(self) -> str:
        """The options of the country select, the answer shown chosen."""
        return _country_options(self.question.choices, self.shown_value)

    @property
    def also_options(self) -> str:
        """The options of the second citizenship's select, the one shown chosen."""
        return _country_options(self.question.choices, self.shown_also)

    @property
    def confirming(self) -> bool:
        return len(self.readings) == 2

    @property
    def reading_choices(self) -> list[tuple[str, str]]:
        """The two readings of an ambiguous amount: ("52000", "€52,000 a year")."""
        return [
            (f"{amount:f}", wording.amount_text(self.question, amount, self.currency))
            for amount in self.readings
        ]

    @property
    def error(self) -> str:
        """The message to show (none while an amount is being confirmed)."""
        if self.confirming or not self.is_bound:
            return ""
        errors = self.errors.get("answer")
        return str(errors[0]) if errors else ""

    @property
    def described_by(self) -> str:
        """The ids of the hint and the error message that describe the field."""
        ids = ["answer-hint"] if self.question.help_text else []
        return " ".join([*ids, "answer-error"] if self.error else ids)

    @property
    def shown_value(self) -> str:
        """What the field shows: the rejected text after an error, else the initial value."""
        value = self.data.get("answer") if self.is_bound else self.initial.get("answer")
        return "" if value is None else str(value)[:MOST_CHARACTERS]

    @property
    def shown_values(self) -> list[str]:
        """The ticked boxes."""
        if self.is_bound:
            getlist = getattr(self.data, "getlist", None)
            return list(getlist("answer")) if getlist else [self.shown_value]
        return list(self.initial.get("answers") or [])

    @property
    def option_type(self) -> str:
        """The input type of each option: "checkbox" or "radio"."""
        return "checkbox" if self.widget == "checkboxes" else "radio"

    @property
    def ticked(self) -> list[str]:
        """The options shown ticked or chosen."""
        return self.shown_values if self.widget == "checkboxes" else [self.shown_value]

    @property
    def shown_also(self) -> str:
        value = self.data.get("also") if self.is_bound else self.initial.get("also")
        return "" if value is None else str(value)

    # --- Checking -------------------------------------------------------------------------

    def clean_answer(self) -> Any:
        if self.refused:
            raise forms.ValidationError(self.refused, code="refused")
        if self.data.get("dont_know"):
            return None
        question = self.question
        raw: Any = self.cleaned_data["answer"]
        if len(raw) > MOST_CHARACTERS:
            raise forms.ValidationError(_unreadable_message(question))
        if self.widget == "checkboxes":
            ticked = [code for code in self.shown_values if code.strip()]
            if not ticked:
                return None  # none ticked: every country, as "I don't know"
            allowed = {value for value, _ in question.choices}
            if not set(ticked) <= allowed:
                raise forms.ValidationError(
                    f"Choose from the countries listed for {_what(question)}."
                )
            raw = ticked
        elif raw == "" and question.kind in PICKED_KINDS:
            raise forms.ValidationError(
                f"Choose an answer to “{question.label}”, or choose “I don't know”."
            )
        elif question.kind is Kind.COUNTRIES:
            raw = [code for code in (raw, self.data.get("also") or "") if code.strip()]
        if question.kind is Kind.MONEY and self.currency:
            named = typed_currencies(str(raw))
            if named is not None and self.currency not in named:
                raise forms.ValidationError(
                    f"Enter {_what(question)} in {wording.currency_text(self.currency)}, the "
                    "currency it is asked in: the amount you typed names another currency."
                )
        try:
            value = parse_answer(question, raw)
        except AmbiguousAmount as exc:
            self.readings = exc.readings
            raise forms.ValidationError(str(exc), code="ambiguous") from exc
        except AnswerError as exc:
            raise forms.ValidationError(str(exc)) from exc
        self._refuse_the_future(value)
        return value

    def _refuse_the_future(self, value: Any) -> None:
        """A year about the past (one with a month question) is at most this year; this
        year's month, at most this month."""
        if self.on is None or value is None:
            return
        question = self.question
        if question.month_key and question.kind is Kind.INTEGER and value > self.on.year:
            low = question.min_value
            since = f" from {low.normalize():f}" if low is not None else ""
            raise forms.ValidationError(
                f"Enter {_what(question)} as a whole number{since} to {self.on.year}: "
                "it cannot be in the future."
            )
        year = self.year_question
        if (
            year is not None
            and self.answers.get(year.key) == self.on.year
            and int(value) > self.on.month
        ):
            raise forms.ValidationError(
                f"Choose a month no later than {self.on:%B} {self.on.year}: "
                "it cannot be in the future."
            )


# A country select has some 250 options, the same on every page but for the one chosen: drawing
# them each time cost more than all the rest of a step, so each list is drawn once per
# language and chosen option (a known code, or none) and kept.


@functools.lru_cache(maxsize=32)
def _country_choices(
    language: str | None, extras: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """The question's own choices ("No job offer"), then every country by its name."""
    return (*extras, *((code, str(name)) for code, name in countries))


def _country_options(extras: tuple[tuple[str, str], ...], chosen: str) -> str:
    language = translation.get_language()
    known = _country_codes(language, extras)
    return _drawn_options(language, extras, chosen if chosen in known else "")


@functools.lru_cache(maxsize=32)
def _country_codes(language: str | None, extras: tuple[tuple[str, str], ...]) -> frozenset[str]:
    return frozenset(value for value, _ in _country_choices(language, extras))


@functools.lru_cache(maxsize=2048)
def _drawn_options(language: str | None, extras: tuple[tuple[str, str], ...], chosen: str) -> str:
    return render_to_string(
        "question.html#country_options",
        {"choices": _country_choices(language, extras), "chosen": chosen},
    )


def _unreadable_message(question: QuestionRule) -> str:
    """What the question asks for, as its message for an answer that cannot be read."""
    try:
        parse_answer(question, "")
    except AnswerError as exc:
        return str(exc)
    return f"Enter a shorter answer to “{question.label}”."


def _what(question: QuestionRule) -> str:
    return f"your {question.short_label}" if question.short_label else f"“{question.label}”"
