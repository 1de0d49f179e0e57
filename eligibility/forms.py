"""The one form of the questionnaire: an answer to one question, checked by its kind."""

from __future__ import annotations

from typing import Any

from django import forms

from eligibility.answers import AnswerError, parse_answer
from eligibility.engine import Kind, QuestionRule

PICKED_KINDS = frozenset({Kind.BOOLEAN, Kind.CHOICE, Kind.ORDINAL, Kind.COUNTRY, Kind.COUNTRIES})


class AnswerForm(forms.Form):
    """`answer` is the raw text or choice; pressing "I don't know" (`dont_know`) stores null
    whatever else was entered. `cleaned_data["answer"]` is the engine value."""

    answer = forms.CharField(required=False, max_length=100)
    # A second citizenship, for questions that take one or more countries.
    also = forms.CharField(required=False, max_length=100)
    dont_know = forms.BooleanField(required=False)

    def __init__(self, question: QuestionRule, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.question = question

    def clean_answer(self) -> Any:
        if self.data.get("dont_know"):
            return None
        raw = self.cleaned_data["answer"]
        if raw == "" and self.question.kind in PICKED_KINDS:
            raise forms.ValidationError(
                f"Choose an answer to “{self.question.label}”, or choose “I don't know”."
            )
        if self.question.kind is Kind.COUNTRIES:
            raw = [code for code in (raw, self.data.get("also") or "") if code.strip()]
        try:
            return parse_answer(self.question, raw)
        except AnswerError as exc:
            raise forms.ValidationError(str(exc)) from exc

    @property
    def shown_value(self) -> str:
        """What the field shows: the rejected text after an error, else the initial value."""
        value = self.data.get("answer") if self.is_bound else self.initial.get("answer")
        return "" if value is None else str(value)

    @property
    def shown_also(self) -> str:
        value = self.data.get("also") if self.is_bound else self.initial.get("also")
        return "" if value is None else str(value)
