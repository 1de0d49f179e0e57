"""Turning what people type (applicants' answers, advisers' rule values and conditions) into the
engine's values, with a message that says what to enter when it cannot be done. Pure: shared
by the questionnaire, the admin, the catalogue loader and the `assess` command."""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django_countries.data import COUNTRIES

from eligibility.engine import (
    LIST_OPERATORS,
    ORDERING_OPERATORS,
    Clause,
    Kind,
    Operator,
    QuestionRule,
    YearsBefore,
)

__all__ = [
    "AmbiguousAmount",
    "AnswerError",
    "Kind",
    "parse_answer",
    "parse_condition",
    "parse_rule_value",
]

# Bounds that keep every stored number sane when an adviser sets none.
LARGEST: Final = Decimal("1000000000000")
# Digits an answer may have (trailing zeros aside): an amount up to LARGEST to the cent. More is
# no answer anyone means, and each digit is stored and computed with.
MOST_DIGITS: Final = 15
COUNTRY_CODES: Final = frozenset(COUNTRIES)
_MONEY_NOISE: Final = re.compile(r"[\s,_€$£¥₩]|NZ|EUR|USD|GBP|NZD|KRW|JPY|CNY", re.IGNORECASE)


class AnswerError(ValueError):
    """Bad input; the message says what to enter instead."""


class AmbiguousAmount(AnswerError):
    """An amount that reads two ways ("52.000" is 52,000 in Germany and 52 in the UK): the
    applicant confirms which. `readings` has the more plausible first."""

    def __init__(self, message: str, readings: tuple[Decimal, Decimal]) -> None:
        super().__init__(message)
        self.readings = readings


# Spaces, apostrophes and underscores group thousands: "52 000", "52'000".
_GROUPING: Final = re.compile(r"(?<=\d)[\s'’_](?=\d{3}(?!\d))")
_DIGITS: Final = re.compile(r"\d+(?:[.,]\d+)*")


def _grouped(groups: Sequence[str]) -> bool:
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


# What people type for a currency, longest first, and the currencies each can mean.
_CURRENCY_MARKS: Final = (
    ("NZ$", {"NZD"}),
    ("US$", {"USD"}),
    ("CN¥", {"CNY"}),
    ("NZD", {"NZD"}),
    ("USD", {"USD"}),
    ("EUR", {"EUR"}),
    ("GBP", {"GBP"}),
    ("KRW", {"KRW"}),
    ("JPY", {"JPY"}),
    ("CNY", {"CNY"}),
    ("RMB", {"CNY"}),
    ("NZ", {"NZD"}),
    ("US", {"USD"}),
    ("CN", {"CNY"}),
    ("€", {"EUR"}),
    ("£", {"GBP"}),
    ("₩", {"KRW"}),
    ("$", {"USD", "NZD"}),
    ("¥", {"JPY", "CNY"}),
)


_CURRENCY: Final = re.compile("|".join(re.escape(mark) for mark, _ in _CURRENCY_MARKS), re.I)


def typed_currencies(text: str) -> frozenset[str] | None:
    """The currencies an amount as typed names ("€52k": EUR; "¥": JPY or CNY), or None when
    it names none."""
    upper = unicodedata.normalize("NFKC", text).upper()
    return next((frozenset(codes) for mark, codes in _CURRENCY_MARKS if mark in upper), None)


def money_readings(text: str) -> tuple[Decimal, ...]:
    """Every amount that `text` can mean as people type it: "52,000", "52.000", "52 000",
    "52'000", "€52k", "€52,000.50", "52.000,50". None: not an amount. Two: one dot or comma
    followed by three digits ("52.000"), which is a thousands separator in one locale and a
    decimal mark in another; amounts of money have no third decimal place, so the thousands
    reading comes first."""
    text = unicodedata.normalize("NFKC", text).strip()
    text = _CURRENCY.sub("", text).strip()
    if not text or len(text) > 40:
        return ()
    multiplier = Decimal(1)
    if text[-1] in "kK":
        multiplier, text = Decimal(1000), text[:-1].strip()
    text = _GROUPING.sub("", text)
    if not _DIGITS.fullmatch(text):
        return ()
    marks = {c for c in text if c in ".,"}
    if len(marks) == 2:  # "52,000.50", "52.000,50": the last mark is the decimal one
        point = text[max(text.rfind("."), text.rfind(","))]
        whole, _, fraction = text.rpartition(point)
        groups = whole.split(({".", ","} - {point}).pop())
        if point in whole or not _grouped(groups):
            return ()
        readings = [Decimal("".join(groups) + "." + fraction)]
    elif marks:
        groups = text.split(marks.pop())
        if len(groups) > 2:  # "1.000.000"
            if not _grouped(groups):
                return ()
            readings = [Decimal("".join(groups))]
        elif len(groups[1]) == 3 and _grouped(groups):
            readings = [Decimal("".join(groups)), Decimal(".".join(groups))]
        else:
            readings = [Decimal(".".join(groups))]
    else:
        readings = [Decimal(text)]
    return tuple(reading * multiplier for reading in readings)


def _your(question: QuestionRule) -> str:
    return (
        f"your {question.short_label}"
        if question.short_label
        else f"an answer to “{question.label}”"
    )


def _bounds(question: QuestionRule) -> tuple[Decimal, Decimal]:
    low = question.min_value if question.min_value is not None else -LARGEST
    high = question.max_value if question.max_value is not None else LARGEST
    return low, high


def _range_text(question: QuestionRule, low: Decimal, high: Decimal) -> str:
    grouped = question.kind is not Kind.INTEGER
    if question.min_value is not None and question.max_value is not None:
        return f" from {_plain(low, grouped=grouped)} to {_plain(high, grouped=grouped)}"
    if question.min_value is not None:
        return f" of at least {_plain(low, grouped=grouped)}"
    if question.max_value is not None:
        return f" of at most {_plain(high, grouped=grouped)}"
    return ""


def _plain(number: Decimal, *, grouped: bool = True) -> str:
    """ "52,000"; ungrouped for whole numbers such as years and ages ("1950", never "1,950")."""
    if not grouped and number == number.to_integral_value():
        return f"{number.normalize():f}"
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,}"


def _decimal(raw: Any, *, money: bool = False) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, Decimal)):
        number = Decimal(raw)
    elif isinstance(raw, float):
        number = Decimal(str(raw))
    elif isinstance(raw, str):
        text = _MONEY_NOISE.sub("", raw) if money else raw.strip().replace(",", "")
        if not text or len(text) > 40:
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    else:
        return None
    # An exponent like 1E-300000000 is short to type but millions of digits to store.
    if not number.is_finite() or (number and not -20 <= number.adjusted() <= 20):
        return None
    if len(number.normalize().as_tuple().digits) > MOST_DIGITS:
        return None
    return number


def parse_answer(question: QuestionRule, raw: Any) -> Any:
    """The engine value for an applicant's answer. None ("I don't know") passes through."""
    if raw is None:
        return None
    low, high = _bounds(question)
    match question.kind:
        case Kind.INTEGER:
            number = _decimal(raw)
            message = (
                f"Enter {_your(question)} as a whole number{_range_text(question, low, high)}."
            )
            if number is None or number != number.to_integral_value() or not low <= number <= high:
                raise AnswerError(message)
            return int(number)
        case Kind.MONEY if isinstance(raw, str):
            low = max(low, Decimal(0))
            message = (
                f"Enter {_your(question)} as an amount in numbers, like 52000 or 52,000"
                f"{_range_text(question, low, high)}."
            )
            readings = [r for r in money_readings(raw) if low <= r <= high]
            if not readings:
                raise AnswerError(message)
            amounts = [r.quantize(Decimal("0.01")).normalize() for r in readings]
            if len(amounts) == 2:
                first, second = amounts
                if question.unit.startswith("hour"):  # a wage an hour: the smaller is likely
                    first, second = second, first
                raise AmbiguousAmount(
                    f"“{shortened(raw)}” could be {_plain(first)} or {_plain(second)}: "
                    f"enter it without a dot or comma, like {first:f}.",
                    (first, second),
                )
            return amounts[0]
        case Kind.DECIMAL | Kind.MONEY:
            money = question.kind is Kind.MONEY
            number = _decimal(raw, money=money)
            if money:
                low = max(low, Decimal(0))
                what, like = "an amount in numbers only", "52000"
            else:
                what, like = "a number", "6.5"
            message = (
                f"Enter {_your(question)} as {what}{_range_text(question, low, high)}, like {like}."
            )
            if number is None or not low <= number <= high:
                raise AnswerError(message)
            return number.quantize(Decimal("0.01")).normalize() if money else number
        case Kind.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower() if isinstance(raw, (str, int)) else ""
            if text in {"yes", "true", "1", "y"}:
                return True
            if text in {"no", "false", "0", "n"}:
                return False
            raise AnswerError(f"Choose yes or no for {_your(question)}.")
        case Kind.CHOICE | Kind.ORDINAL:
            values = [v for v, _ in question.choices]
            if isinstance(raw, int) and not isinstance(raw, bool):
                raw = str(raw)  # a month given as 1 in JSON is the choice "1"
            if isinstance(raw, str) and raw.strip() in values:
                return raw.strip()
            allowed = ", ".join(values)
            raise AnswerError(f"Choose one of the options for {_your(question)}: {allowed}.")
        case Kind.COUNTRY:
            extras = [v for v, _ in question.choices]
            if isinstance(raw, str):
                text = raw.strip()
                if text.lower() in extras:
                    return text.lower()
                if text.upper() in COUNTRY_CODES:
                    return text.upper()
            also = f", or {' or '.join(extras)}" if extras else ""
            raise AnswerError(
                f"Enter {_your(question)} as a two-letter ISO country code, like DE or IN{also}."
            )
        case Kind.COUNTRIES:
            return _countries(question, raw)
    raise AnswerError(f"Cannot read an answer to {question.key}.")


def _countries(question: QuestionRule, raw: Any) -> tuple[str, ...]:
    """One or more ISO codes: a JSON list, one code, or codes separated by commas or spaces."""
    items = re.split(r"[\s,;]+", raw.strip()) if isinstance(raw, str) else raw
    message = (
        f"Enter {_your(question)} as one or more two-letter ISO country codes, like IN or IN, GB."
    )
    if not isinstance(items, (list, tuple)) or len(items) > 20:
        raise AnswerError(message)
    single = dataclasses.replace(question, kind=Kind.COUNTRY)
    codes: list[str] = []
    for item in items:
        if item == "":
            continue
        try:
            code = parse_answer(single, item)
        except AnswerError:
            raise AnswerError(message) from None
        if code not in codes:
            codes.append(code)
    if not codes:
        raise AnswerError(message)
    return tuple(codes)


def _to_json(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_to_json(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def rule_value_text(value: Any) -> str:
    """A stored rule value as an adviser types it, so that parse_rule_value reads it back."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and "years_before" in value:
        return f"years_before:{value['years_before']}"
    return str(value)


def parse_rule_value(question: QuestionRule, operator: Operator, raw: Any) -> Any:
    """The JSON value to store for a rule `question operator raw`, checked against the
    question's kind. Text from the admin ("50700", "top100, top200", "years_before:3") and
    values from the catalogue file are both accepted."""
    if operator is Operator.ANSWERED:
        return None
    if raw is None or raw == "":
        raise AnswerError(f"Enter a value for “{question.label}”.")
    if question.kind is Kind.COUNTRIES and operator not in LIST_OPERATORS:
        raise AnswerError(
            f"“{question.label}” can have several answers: use is one of or is none of."
        )
    if operator in LIST_OPERATORS:
        items = [s.strip() for s in raw.split(",")] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not items:
            raise AnswerError("Enter one or more values, separated by commas.")
        if question.kind is Kind.COUNTRIES:
            question = dataclasses.replace(question, kind=Kind.COUNTRY)
        return [_to_json(_rule_scalar(question, operator, item)) for item in items]
    if operator in ORDERING_OPERATORS and question.kind in (
        Kind.BOOLEAN,
        Kind.CHOICE,
        Kind.COUNTRY,
    ):
        raise AnswerError(
            f"{operator.label} compares ordered values; “{question.label}” is a "
            f"{question.kind.label.lower()} question. Use = , ≠, is one of or is none of."
        )
    return _to_json(_rule_scalar(question, operator, raw))


def _rule_scalar(question: QuestionRule, operator: Operator, raw: Any) -> Any:
    if question.kind is Kind.INTEGER:
        years = _years_before(raw)
        if years is not None:
            if operator not in ORDERING_OPERATORS:
                raise AnswerError("years_before:N compares dates: use ≥, >, ≤ or <.")
            if not 0 <= years <= 100:
                raise AnswerError("years_before:N needs N from 0 to 100.")
            return {"years_before": years}
    try:
        return parse_answer(question, raw)
    except AnswerError as exc:
        raise AnswerError(
            f"“{operator.label} {shortened(raw)}” does not fit “{question.label}”: "
            f"{str(exc).replace(_your(question), 'the value')}"
        ) from exc


def shortened(raw: Any, limit: int = 40) -> str:
    """A rejected value as an error message repeats it: never a 100 KB message."""
    text = str(raw)
    return text if len(text) <= limit else text[:limit] + "…"


def _years_before(raw: Any) -> int | None:
    if isinstance(raw, Mapping) and set(raw) == {"years_before"}:
        years = raw["years_before"]
    elif isinstance(raw, str) and raw.strip().startswith("years_before:"):
        years = raw.strip().removeprefix("years_before:").strip()
    else:
        return None
    try:
        return int(years)
    except (TypeError, ValueError):
        raise AnswerError(
            "Write years_before:N with a whole number N, e.g. years_before:3."
        ) from None


def engine_value(question: QuestionRule, operator: Operator, stored: Any) -> Any:
    """A stored (JSON) rule value as the engine compares it."""
    if operator is Operator.ANSWERED or stored is None:
        return None
    if isinstance(stored, list):
        if question.kind is Kind.COUNTRIES:
            question = dataclasses.replace(question, kind=Kind.COUNTRY)
        return tuple(engine_value(question, Operator.EQ, item) for item in stored)
    if isinstance(stored, Mapping) and "years_before" in stored:
        return YearsBefore(int(stored["years_before"]))
    if question.kind in (Kind.MONEY, Kind.DECIMAL) or (
        question.kind is Kind.INTEGER and isinstance(stored, (int, float))
    ):
        return Decimal(str(stored))
    return stored


def parse_condition(
    raw: Any, known_questions: Mapping[str, QuestionRule] | None
) -> tuple[Clause, ...]:
    """A condition is a list of clauses {question, operator, value} that must all hold."""
    if raw in (None, ""):
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise AnswerError(
            'Write a list of clauses: [{"question": ..., "operator": ..., "value": ...}]'
        )
    clauses = []
    for item in raw:
        if not isinstance(item, Mapping) or not {"question", "operator"} <= set(item):
            raise AnswerError("Each clause needs a question and an operator (and usually a value).")
        try:
            operator = Operator(item["operator"])
        except ValueError:
            allowed = ", ".join(o.value for o in Operator)
            raise AnswerError(
                f"Unknown operator “{item['operator']}”; use one of {allowed}."
            ) from None
        key = str(item["question"])
        value = item.get("value")
        if known_questions is not None:
            if key not in known_questions:
                raise AnswerError(f"No question has the key “{key}”.")
            question = known_questions[key]
            value = engine_value(question, operator, parse_rule_value(question, operator, value))
        clauses.append(Clause(key, operator, value))
    return tuple(clauses)


def question_rule(
    *,
    key: str,
    label: str,
    kind: str,
    choices: Any = (),
    min_value: Decimal | None = None,
    max_value: Decimal | None = None,
    ask_if: Any = (),
    help_text: str = "",
    section: str = "",
    order: int = 0,
    short_label: str = "",
    unit: str = "",
    month_key: str = "",
) -> QuestionRule:
    """A QuestionRule from stored fields; "ask only if" is resolved later (rules.py), when all
    questions are known."""
    pairs: list[tuple[str, str]] = []
    if choices and not isinstance(choices, (list, tuple)):  # 5, "b1", {"b1": "B1"}
        raise AnswerError('Write choices as [value, label] pairs, e.g. [["b1", "B1"]].')
    for pair in choices or ():
        if not (isinstance(pair, Sequence) and not isinstance(pair, str) and len(pair) == 2):
            raise AnswerError('Write choices as [value, label] pairs, e.g. [["b1", "B1"]].')
        pairs.append((str(pair[0]), str(pair[1])))
    return QuestionRule(
        key=key,
        label=label,
        kind=Kind(kind),
        choices=tuple(pairs),
        min_value=Decimal(min_value) if min_value is not None else None,
        max_value=Decimal(max_value) if max_value is not None else None,
        ask_if=parse_condition(ask_if, known_questions=None),
        help_text=help_text,
        section=section,
        order=order,
        short_label=short_label,
        unit=unit,
        month_key=month_key,
    )
