"""Small rule books built by hand, for engine tests that need no database."""

from __future__ import annotations

import datetime as dt
import itertools

from eligibility import engine
from eligibility.engine import (
    Certainty,
    DatedValue,
    Kind,
    Operator,
    QuestionRule,
    RequirementRule,
    RouteRules,
)

SOURCE = engine.Source("Example Gazette", "https://example.org/gazette", dt.date(2026, 11, 28))
ON = dt.date(2026, 6, 1)

CEFR = tuple((v, v) for v in ("none", "A1", "A2", "B1", "B2", "C1", "C2"))
QUESTIONS = {
    "age": QuestionRule("age", "How old are you?", Kind.INTEGER, short_label="age"),
    "salary": QuestionRule("salary", "Salary?", Kind.MONEY, short_label="offered salary"),
    "offer": QuestionRule("offer", "Offer?", Kind.COUNTRY, choices=(("none", "No offer"),)),
    "degree": QuestionRule(
        "degree",
        "Degree?",
        Kind.ORDINAL,
        choices=(("none", "None"), ("bachelor", "Bachelor"), ("master", "Master")),
    ),
    "german": QuestionRule(
        "german", "German?", Kind.ORDINAL, choices=CEFR, short_label="German level"
    ),
    "funds": QuestionRule("funds", "Funds?", Kind.BOOLEAN),
    "graduation": QuestionRule(
        "graduation",
        "Graduation year?",
        Kind.INTEGER,
        short_label="graduation year",
        month_key="graduation_month",
    ),
    "graduation_month": QuestionRule(
        "graduation_month",
        "Graduation month?",
        Kind.CHOICE,
        choices=tuple((str(n), str(n)) for n in range(1, 13)),
    ),
    "citizenship": QuestionRule(
        "citizenship", "Citizenship?", Kind.COUNTRIES, short_label="citizenship"
    ),
    "employer_exempt": QuestionRule("employer_exempt", "Cap-exempt employer?", Kind.BOOLEAN),
    "rank": QuestionRule(
        "rank",
        "Rank?",
        Kind.CHOICE,
        choices=(("top100", "Top 100"), ("top200", "Top 200"), ("other", "Other")),
    ),
}


_ids = itertools.count(1)


VALUE_FIELDS = ("certainty", "effective_from", "effective_until", "note")


def rule(question: str, operator: str, value: object = None, **fields: object) -> RequirementRule:
    """A gate with one value; `certainty`, `effective_from`, `effective_until` and `note`
    describe that value, `values` replaces it with several."""
    dated = {k: fields.pop(k) for k in VALUE_FIELDS if k in fields}
    values = fields.pop("values", None) or (DatedValue(value, SOURCE, **dated),)  # type: ignore[arg-type]
    return RequirementRule(
        id=next(_ids),
        question=QUESTIONS[question],
        operator=Operator(operator),
        values=values,  # type: ignore[arg-type]
        **fields,
    )  # type: ignore[arg-type]


def value(amount: object, **fields: object) -> DatedValue:
    return DatedValue(amount, SOURCE, **fields)  # type: ignore[arg-type]


def route(*requirements: RequirementRule, **fields: object) -> RouteRules:
    defaults: dict[str, object] = {"slug": "r", "name": "Route", "country": "DE", "currency": "EUR"}
    return RouteRules(requirements=tuple(requirements), **{**defaults, **fields})  # type: ignore[arg-type]


def book(*routes: RouteRules) -> engine.RuleBook:
    return engine.RuleBook(questions=tuple(QUESTIONS.values()), routes=routes)


UNCLEAR = Certainty.UNCLEAR
CHANCE = Certainty.CHANCE
