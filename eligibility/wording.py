"""Everything an applicant reads about a rule, generated from the question, the operator and the
value in force: "Offered salary must be at least €50,700 a year (2026 figure)". Advisers may add
an explanation to a gate, but the numbers always come from here, so a reason can never say one
threshold while the rule holds another. No "≥", question keys or points-group names reach an
applicant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from django_countries import countries

from eligibility.engine import (
    LIST_OPERATORS,
    Certainty,
    Closure,
    DatedValue,
    Kind,
    OpenQuestionKind,
    OpenQuestionResult,
    Operator,
    Outcome,
    PathwayResult,
    QuestionRule,
    RequirementResult,
    RequirementRule,
    RouteResult,
    RuleBook,
    Unknown,
    Verdict,
    YearsBefore,
)

_SYMBOLS: Final = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "NZD": "NZ$",
    "KRW": "₩",
    "JPY": "¥",
    "CNY": "CN¥",
}


def _number(value: Any) -> Decimal:
    """`value` as a Decimal to write out; a number past 10**20 (or not finite) is no amount or
    threshold of any route, and writing out 1E+99999999 would take minutes and gigabytes."""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite() or number.adjusted() > 20:
        raise ValueError(f"{number:.3E} is out of range for a number to write out.")
    return number


def format_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def currency_text(currency: str) -> str:
    """ "EUR (€)", or the code alone when it has no symbol here."""
    symbol = _SYMBOLS.get(currency)
    return f"{currency} ({symbol})" if symbol else currency


def format_money(amount: Decimal | int | float, currency: str) -> str:
    amount = _number(amount)
    places = 0 if amount == amount.to_integral_value() else 2
    number = f"{amount:,.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def format_number(amount: Decimal | int | float, unit: str = "") -> str:
    """ "52,000", never "5.2E+4"; with a unit, "3 years" or "1 year"."""
    number = _number(amount)
    text = f"{number:,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if not unit:
        return text
    return f"{text} {unit}" if number == 1 else f"{text} {unit}s"


def country_name(code: str) -> str:
    return str(countries.name(code)) or code


# Countries whose English name takes "the" inside a sentence.
_WITH_THE = frozenset({"GB", "US", "NL", "AE", "PH", "CZ", "DO", "BS", "GM", "CF", "KM", "MV"})


def country_in_sentence(code: str) -> str:
    """ "the United Kingdom", "Germany": a country's name as a sentence uses it."""
    name = country_name(code)
    return f"the {name}" if code in _WITH_THE else name


def format_value(question: QuestionRule, value: Any, currency: str = "") -> str:
    """A value as an applicant would write it, with country names."""
    if value is None:
        return "I don't know"
    if isinstance(value, YearsBefore):
        return format_number(value.years, "year") + " ago"
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, (list, tuple)):
        return joined([format_value(question, v, currency) for v in value], "and")
    match question.kind:
        case Kind.BOOLEAN:
            return "yes" if value else "no"
        case Kind.CHOICE | Kind.ORDINAL:
            return question.choice_label(str(value))
        case Kind.COUNTRY | Kind.COUNTRIES:
            label = question.choice_label(str(value))
            return country_name(label) if label == value and len(label) == 2 else label
        case Kind.MONEY if currency:
            return format_money(value, currency)
        case Kind.MONEY | Kind.DECIMAL:
            return format_number(value)
        case Kind.INTEGER:
            return str(value)  # years and ages: "2022", not "2,022"
        case _:
            return str(value)


def joined(items: Sequence[str], word: str) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _per(question: QuestionRule) -> str:
    if question.kind is not Kind.MONEY or not question.unit:
        return ""
    article = "an" if question.unit[:1] in "aeiou" or question.unit.startswith("hour") else "a"
    return f" {article} {question.unit}"


def amount_text(question: QuestionRule, amount: Decimal, currency: str = "") -> str:
    """An amount as an applicant meant it: "€52,000 a year" ("52,000 a year" without a
    currency)."""
    text = format_money(amount, currency) if currency else format_number(amount)
    return text + _per(question)


def _limit(question: QuestionRule, target: Any, currency: str) -> str:
    if question.kind is Kind.MONEY:
        return format_money(target, currency) + _per(question)
    if question.kind in (Kind.INTEGER, Kind.DECIMAL):
        return format_number(target, question.unit)
    return format_value(question, target, currency)


def period_of(value: DatedValue) -> str:
    """When a value applies, for a rule line: "2026 figure", "from 1 January 2026"."""
    start, end = value.effective_from, value.effective_until
    if start and end and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        return f"{start.year} figure" if start.year == end.year else ""
    if start and end:
        return f"from {format_date(start)} to {format_date(end)}"
    if start:
        return f"from {format_date(start)}"
    if end:
        return f"until {format_date(end)}"
    return ""


_ORDER_WORDS: Final = {
    Operator.GTE: ("at least {}", "{} or higher", "on or after {}"),
    Operator.GT: ("more than {}", "higher than {}", "after {}"),
    Operator.LTE: ("at most {}", "{} or lower", "on or before {}"),
    Operator.LT: ("under {}", "lower than {}", "before {}"),
}


def _phrase(rule: RequirementRule, target: Any, currency: str, on: dt.date) -> str:
    question, operator = rule.question, rule.operator
    if operator in _ORDER_WORDS:
        numeric, ordinal, dated = _ORDER_WORDS[operator]
        if isinstance(target, YearsBefore):
            return dated.format(format_date(target.cutoff(on)))
        if question.kind is Kind.ORDINAL:
            label = format_value(question, target)
            return ordinal.format(f"“{label}”" if "," in label else label)
        return numeric.format(_limit(question, target, currency))
    if operator in LIST_OPERATORS:
        shown = [format_value(question, item, currency) for item in (target or ())]
        listed = joined(shown, "or")
        return listed if operator is Operator.IN else f"none of {listed}"
    if operator is Operator.NE:
        return "anything but " + format_value(question, target, currency)
    return format_value(question, target, currency)


def _condition(rule: RequirementRule, value: DatedValue, currency: str, on: dt.date) -> str:
    """The comparison as a condition: "your answer to “…” is no", "age is at least 35"."""
    question = rule.question
    if question.kind is Kind.BOOLEAN and rule.operator in (Operator.EQ, Operator.NE):
        wanted = bool(value.value) is (rule.operator is Operator.EQ)
        return f"your answer to “{question.label}” is {'yes' if wanted else 'no'}"
    return f"{lower_first(question.name)} is {_phrase(rule, value.value, currency, on)}"


def rule_text(rule: RequirementRule, value: DatedValue | None, currency: str, on: dt.date) -> str:
    """The rule in one plain sentence, without the full stop, from the value in force. A stored
    value that cannot be read (the engine makes its gate unknown) is not shown at all."""
    try:
        text = _rule_text(rule, value, currency, on)
        if rule.applies_if:
            conditions = joined(
                [_condition(c, c.values[0], currency, on) for c in rule.applies_if if c.values],
                "and",
            )
            text = f"If {conditions}: {lower_first(text)}"
        return text
    except (ArithmeticError, TypeError, ValueError, AttributeError):
        return f"{rule.question.name}: this rule could not be checked"


def lower_first(text: str) -> str:
    """Lower-cases a name inside a sentence ("offered salary"), never an acronym ("US wage")."""
    if text[1:2].islower():
        return text[:1].lower() + text[1:]
    return text


def _rule_text(rule: RequirementRule, value: DatedValue | None, currency: str, on: dt.date) -> str:
    question = rule.question
    if value is None:
        return f"{question.name}: no figure has been published for {format_date(on)} yet"
    if value.certainty is Certainty.NOT_AVAILABLE:
        return value.note or f"This is not available on {format_date(on)}"
    if value.certainty is Certainty.NOT_REQUIRED:
        return value.note or f"{question.name}: not required on {format_date(on)}"
    if value.certainty is Certainty.UNCLEAR or rule.operator is Operator.ANSWERED:
        return value.note or f"{question.name}: the rule is not clear yet"
    if question.kind is Kind.COUNTRIES and rule.operator in LIST_OPERATORS:
        names = joined([country_name(str(c)) for c in value.value or ()], "or")
        if rule.operator is Operator.NOT_IN:
            return f"You must not be a citizen of {names}"
        return f"You must be a citizen of {names}"
    if value.certainty is Certainty.CHANCE:
        sentence = (
            f"If {_condition(rule, value, currency, on)}, a lottery, a quota or an official's "
            "approval decides"
        )
    elif question.kind is Kind.BOOLEAN and rule.operator in (Operator.EQ, Operator.NE):
        wanted = bool(value.value) is (rule.operator is Operator.EQ)
        sentence = f"Your answer to “{question.label}” must be {'yes' if wanted else 'no'}"
    elif isinstance(value.value, YearsBefore):
        years = format_number(value.value.years, "year")
        sentence = (
            f"{question.name} must be {_phrase(rule, value.value, currency, on)} "
            f"(within the last {years})"
        )
    else:
        sentence = f"{question.name} must be {_phrase(rule, value.value, currency, on)}"
    period = period_of(value)
    return f"{sentence} ({period})" if period else sentence


def requirement_text(result: RequirementResult, currency: str) -> str:
    return rule_text(result.rule, result.value, currency, result.on)


def answer_text(result: RequirementResult, currency: str) -> str:
    if not result.answered:
        return "Not answered"
    return format_value(result.rule.question, result.answer, currency)


def _citizen_explanation(result: RequirementResult, country: str) -> str:
    name = country_name(country)
    if result.outcome is Outcome.NOT_MET:
        return f"You are a citizen of {name}, so you need no visa to live and work there."
    if result.outcome is Outcome.MET:
        return f"You are not a citizen of {name}."
    return f"Whether you are a citizen of {name} decides whether you need a visa there at all."


def _sentence(text: str) -> str:
    """Text ending in one full stop, whether or not an adviser typed it."""
    return text if text.endswith((".", "!", "?", "…")) else f"{text}."


def explanation(result: RequirementResult, currency: str) -> str:
    """Why this gate has its outcome, in one or two sentences."""
    rule = result.rule
    text = requirement_text(result, currency)
    extra = f" {rule.explanation}" if rule.explanation else ""
    if not result.check.applies:
        return f"Does not apply to you: {text}."
    if result.outcome is Outcome.MET:
        return f"Met: {text}.{extra}"
    if result.value is not None and result.value.certainty is Certainty.NOT_AVAILABLE:
        return f"Not available: {_sentence(text)}{extra}"
    if result.outcome is Outcome.NOT_MET:
        answer = format_value(rule.question, result.answer, currency)
        return f"Not met: {text}; you answered {answer}.{extra}"
    value = result.value
    said = _sentence(value.note if value and value.note else text)
    match result.why:
        case Unknown.UNCLEAR:
            return f"Unclear rule: {said}"
        case Unknown.CHANCE:
            return f"Decided by a lottery, a quota or an official's approval: {said}"
        case Unknown.UNPUBLISHED:
            return f"No {result.on.year} figure has been published yet: {rule.question.name}."
        case Unknown.NEEDS_MONTH:
            return f"The year alone does not decide: {text}. The month will."
        case Unknown.DAY_DECIDES:
            return f"The day decides: {text}."
        case Unknown.BAD_VALUE:
            name = rule.question.name.lower()
            return f"This rule on {name} could not be checked; advisers have been told."
        case Unknown.DONT_KNOW:
            return f"You don't know yet: {text}.{extra}"
    return f"Not answered yet: {text}.{extra}"


def gate_explanation(result: RequirementResult, route: RouteResult) -> str:
    if result is route.requirements[0]:
        return _citizen_explanation(result, route.route.country)
    return explanation(result, route.route.currency)


def gap_text(result: RequirementResult, currency: str, pathway: str = "") -> str | None:
    """How far a NOT_MET number is from its value: "€0.20 short of €45,934.20 a year (2026
    figure), for the pathway “Shortage occupation”"."""
    gap, value = result.gap, result.value
    if gap is None or value is None:
        return None
    question = result.rule.question
    if question.kind is Kind.MONEY:
        amount = format_money(gap.amount, gap.unit)
    else:
        amount = format_number(gap.amount, gap.unit)
    short = result.rule.operator in (Operator.GT, Operator.GTE)
    limit = _limit(question, value.value, currency)
    period = period_of(value)
    text = f"{amount} {'short of' if short else 'over'} {limit}{f' ({period})' if period else ''}"
    return f"{text}, for the pathway “{pathway}”." if pathway else f"{text}."


def gap_lines(result: RouteResult) -> list[str]:
    """What stands between this applicant and the nearest pathway, in numbers."""
    currency = result.route.currency
    best = result.decisive_pathway
    lines = [t for r in result.gaps if (t := gap_text(r, currency, best.name))]
    points = result.points_short
    if points is not None:
        lines.append(
            f"{points.short_by} point{'s' if points.short_by != 1 else ''} short "
            f"({points.earned} of {points.needed} needed)."
        )
        lines.extend(
            f"{requirement_text(item, currency)} would add {gain} point{'s' if gain != 1 else ''}."
            for gain, item in result.points_gains
        )
    return lines


def _via(pathway: PathwayResult) -> str:
    return f" ({pathway.name})" if pathway.name else ""


def _awaited_label(result: RequirementResult) -> str:
    """The question whose answer the gate awaits: its own, or one its "applies only if" asks."""
    key = result.check.awaits
    asked = (c.question for c in result.rule.applies_if if c.question.key == key)
    return next(asked, result.rule.question).label


def reason(result: RouteResult) -> str:
    """The route's verdict in one sentence."""
    route = result.route
    if result.closure is Closure.CITIZEN:
        return _citizen_explanation(result.requirements[0], route.country)
    if result.closure is Closure.NOT_YET_OPEN and route.opens_on:
        opens, on = format_date(route.opens_on), format_date(result.on)
        return f"This route opens on {opens}; it was not open on {on}."
    if result.closure is Closure.CLOSED and route.closes_on:
        return f"This route closed on {format_date(route.closes_on)}."
    best = result.decisive_pathway
    via = _via(best)
    if result.verdict is Verdict.FITS:
        return f"You meet every requirement{via}."
    gates = [r for r in best.requirements if not r.rule.is_scoring]
    if result.verdict is Verdict.DOES_NOT_FIT:
        unmet = next((r for r in gates if r.outcome is Outcome.NOT_MET), None)
        if unmet is not None:
            return explanation(unmet, route.currency)
        if best.points:
            return f"Not enough points ({best.points.earned} of {best.points.needed} needed)."
        return "A requirement is not met."
    unknown = [r for r in gates if r.outcome is Outcome.UNKNOWN]
    citizen = result.requirements[0]
    for why in (Unknown.CHANCE, Unknown.UNCLEAR, Unknown.UNPUBLISHED, Unknown.BAD_VALUE):
        found = next((r for r in unknown if r.why is why), None)
        if found is not None:
            return explanation(found, route.currency)
    asked = (Unknown.UNANSWERED, Unknown.DONT_KNOW)
    labels = [_awaited_label(r) for r in unknown if r.why in asked]
    if citizen.outcome is Outcome.UNKNOWN:
        labels.insert(0, citizen.rule.question.label)
    labels = list(dict.fromkeys(labels))
    if len(labels) == 1:
        return f"Your answer to “{labels[0]}” decides it."
    if labels:
        return f"Your answers to {len(labels)} questions decide it, first “{labels[0]}”."
    dated = next((r for r in unknown if r.why is not None), None)
    if dated is not None:
        return explanation(dated, route.currency)
    return "Depends on your points total, which is not settled yet."


def open_question_text(item: OpenQuestionResult, book: RuleBook, currency: str = "") -> str:
    questions: Mapping[str, QuestionRule] = book.questions_by_key
    match item.kind:
        case OpenQuestionKind.UNANSWERED | OpenQuestionKind.DONT_KNOW:
            question = questions.get(item.question_key or "")
            label = question.label if question else (item.question_key or "")
            if item.kind is OpenQuestionKind.DONT_KNOW:
                return f"You answered “I don't know” to “{label}”; the answer decides this route."
            return f"Not answered yet: “{label}” could decide this route."
        case OpenQuestionKind.UNPUBLISHED if item.result is not None:
            name = item.result.rule.question.name
            return f"No {item.result.on.year} figure has been published yet for: {name}."
        case OpenQuestionKind.ROUTE:
            return item.text
    if item.result is not None:
        if item.result.why in (Unknown.UNCLEAR, Unknown.CHANCE) and item.text:
            return item.text
        return explanation(item.result, currency)
    return item.text
