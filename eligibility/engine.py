"""The evaluation engine: answers + a snapshot of published rules + a date in, verdicts out.

Pure and typed: no ORM, no request, no clock, no English. Everything that decides a verdict
lives here; `wording.py` turns the structured results into sentences.

Gates and their dated values
----------------------------
A route's rules are *gates* (RequirementRule): what is checked (a question, an operator, a
pathway, points). What a gate is checked against is a list of *dated values* (DatedValue), each
with its own start, optional end, certainty and source, in the manner of an OpenFisca
parameter. On any date a gate has exactly one outcome:

* no value covers the date: UNKNOWN ("no figure published yet"), never absent, never met;
* the value in force is *unclear*: UNKNOWN, with an open question, whatever the answer;
* the value in force is *not available* (a pathway that has not started, or has ended):
  NOT_MET, whatever the answer; *not required* (a rule not yet or no longer in force): the
  gate stands aside, as below;
* the value in force is *chance* (a lottery, a quota, an authority's discretion): when the
  comparison holds the applicant is subject to it, so UNKNOWN; when it does not, MET. Chance
  never yields MET for someone it applies to, and never NOT_MET;
* the question is unanswered (key missing) or answered "I don't know" (None): UNKNOWN;
* otherwise MET or NOT_MET by comparing the answer with the value. A period such as "within 3
  years of graduating" compares dates, not years: a graduation year alone that straddles the
  cut-off is UNKNOWN until the month is known.

A gate may apply only to some applicants ("applies only if", e.g. a payment due only from
abroad). Where its condition does not hold, a hard gate stands aside (MET, marked as not
applying) and a scoring item earns nothing; where the condition is unknown, so is the gate,
unless its own outcome already settles it.

A stored value the engine cannot compare makes its gate UNKNOWN (and is logged): stored data
never makes a page fail, and never decides a verdict. That includes a value of another kind
than the question's answers ("abc" or None for a number, 5 for a choice, a list where one
value is compared), even where Python would compare them: 30 ≠ "abc" holds, but says nothing.

Verdicts
--------
Outcomes combine with Kleene's strong logic. A *pathway* holds when every common gate (blank
pathway) and every gate of that pathway holds (AND). A route FITS when some pathway is MET,
MAY FIT when none is MET but some is UNKNOWN, and DOES NOT FIT when every pathway is NOT_MET
(OR). Before a route opens, after it closes, and for a citizen of its country (who needs no
visa there) it does not fit whatever the gates say; unanswered citizenship is UNKNOWN.

Gates with points are scoring items. Within a points group only the best MET item counts and
groups add up (*earned*); counting UNKNOWN items as well gives the most still *possible*. A
pathway with scoring items also needs the route's points: MET when earned >= needed, UNKNOWN
when possible >= needed (or the route's table is only partly published), NOT_MET otherwise.

An answer can only turn UNKNOWN into MET or NOT_MET, and points cannot be negative, so
answering one more question never changes a settled verdict (FITS or DOES NOT FIT).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import logging
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

logger = logging.getLogger(__name__)


class Labelled(StrEnum):
    """A string enum whose members also carry a label for people: `X = "value", "Label"`."""

    label: str

    def __new__(cls, value: str, label: str = "") -> Labelled:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class Kind(Labelled):
    INTEGER = "integer", "Whole number"
    DECIMAL = "decimal", "Decimal number"
    MONEY = "money", "Amount of money"
    BOOLEAN = "boolean", "Yes or no"
    CHOICE = "choice", "Choice"
    ORDINAL = "ordinal", "Ordered choice"
    COUNTRY = "country", "Country"
    COUNTRIES = "countries", "One or more countries"


class Operator(Labelled):
    EQ = "eq", "="
    NE = "ne", "≠"
    LT = "lt", "<"
    LTE = "lte", "≤"
    GT = "gt", ">"
    GTE = "gte", "≥"
    IN = "in", "is one of"
    NOT_IN = "not_in", "is none of"
    ANSWERED = "answered", "is answered"


ORDERING_OPERATORS: Final = frozenset({Operator.LT, Operator.LTE, Operator.GT, Operator.GTE})
LIST_OPERATORS: Final = frozenset({Operator.IN, Operator.NOT_IN})


class Certainty(Labelled):
    SETTLED = "settled", "Settled"
    UNCLEAR = "unclear", "Unclear (unknown from this date)"
    CHANCE = "chance", "Chance or approval (lottery, quota, discretion)"
    NOT_AVAILABLE = "not_available", "Not available (the pathway fails on these dates)"
    NOT_REQUIRED = "not_required", "Not required (the gate stands aside on these dates)"


class FactTopic(Labelled):
    FEES = "fees", "Fees"
    CAP = "cap", "Cap or quota"
    PROCESSING_TIME = "processing_time", "Processing time"
    VALIDITY = "validity", "Validity"
    PR_PATH = "pr_path", "Path to permanent residence"
    FAMILY = "family", "Family"
    WORK_RIGHTS = "work_rights", "Work rights"
    JOB_OFFER = "job_offer", "Job offer needed"


class Outcome(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class Unknown(StrEnum):
    """Why a gate's outcome is UNKNOWN."""

    UNANSWERED = "unanswered"
    DONT_KNOW = "dont_know"
    UNCLEAR = "unclear"  # the rule in force is unclear
    CHANCE = "chance"  # a lottery, quota or approval decides
    UNPUBLISHED = "unpublished"  # no value covers the date
    NEEDS_MONTH = "needs_month"  # the year alone straddles a cut-off date
    DAY_DECIDES = "day_decides"  # the cut-off falls inside the month given
    BAD_VALUE = "bad_value"  # a stored value the engine cannot compare


class Verdict(Labelled):
    FITS = "fits", "Fits"
    MAY_FIT = "may_fit", "May fit"
    DOES_NOT_FIT = "does_not_fit", "Does not fit"


class Closure(StrEnum):
    """Why a route does not fit whatever its gates say."""

    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"
    CITIZEN = "citizen"


class OpenQuestionKind(StrEnum):
    UNANSWERED = "unanswered"
    DONT_KNOW = "dont_know"
    UNCLEAR_RULE = "unclear_rule"
    CHANCE = "chance"
    UNPUBLISHED = "unpublished"
    ROUTE = "route"


CITIZENSHIP: Final = "citizenship"

# ---------------------------------------------------------------------------------------------
# The rules snapshot


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str
    as_of: dt.date
    as_of_approximate: bool = False


@dataclass(frozen=True, slots=True)
class Clause:
    """`question operator value`, as used by "ask only if" and "show only if"."""

    question: str
    operator: Operator
    value: Any


@dataclass(frozen=True, slots=True)
class QuestionRule:
    key: str
    label: str
    kind: Kind
    choices: tuple[tuple[str, str], ...] = ()
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    ask_if: tuple[Clause, ...] = ()
    help_text: str = ""
    section: str = ""
    order: int = 0
    short_label: str = ""
    unit: str = ""
    month_key: str = ""  # for a year question: the question asking the month of that year

    @property
    def name(self) -> str:
        """A short name for rule descriptions: "Age" rather than "How old are you?"."""
        name = self.short_label or self.label
        return name[:1].upper() + name[1:]

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def rank(self, value: str) -> int:
        """The value's place among the choices; ValueError for a value not among them."""
        try:
            return _ranks(self.choices)[value]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a choice") from None


@functools.lru_cache(maxsize=256)
def _ranks(choices: tuple[tuple[str, str], ...]) -> dict[str, int]:
    ranks: dict[str, int] = {}
    for i, (value, _) in enumerate(choices):
        ranks.setdefault(value, i)
    return ranks


@dataclass(frozen=True, slots=True)
class YearsBefore:
    """A date relative to the evaluation date: "graduated within the last 3 years" is
    `graduation >= YearsBefore(3)`, i.e. on or after the same day 3 years earlier."""

    years: int

    def cutoff(self, on: dt.date) -> dt.date:
        """The same day `years` earlier; before year 1 (or after 9999) the first (or last)
        date there is, which every date is after (or before) all the same."""
        year = on.year - self.years
        if year < dt.MINYEAR:
            return dt.date.min
        if year > dt.MAXYEAR:
            return dt.date.max
        return dt.date(year, on.month, min(on.day, calendar.monthrange(year, on.month)[1]))


@dataclass(frozen=True, slots=True)
class DatedValue:
    """What a gate is checked against from `effective_from` (None: since the route opened)
    to `effective_until` (its last day; None: open-ended). The admin and the importer refuse
    two values of one gate in force on the same day."""

    value: Any
    source: Source
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    certainty: Certainty = Certainty.SETTLED
    note: str = ""  # for unclear and chance values: what is not known, or what decides

    def covers(self, on: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )


@dataclass(frozen=True, slots=True)
class RequirementRule:
    """A gate: what is checked. Its values say against what, and when."""

    id: int
    question: QuestionRule
    operator: Operator
    values: tuple[DatedValue, ...]
    pathway: str = ""
    points: int | None = None
    points_group: str = ""
    explanation: str = ""
    # "Applies only if": gates (one settled value each) that must all hold for this gate to
    # apply. Where they do not, a hard gate stands aside and a scoring item earns nothing.
    applies_if: tuple[RequirementRule, ...] = ()

    def value_on(self, on: dt.date) -> DatedValue | None:
        """The value in force on a date; where two overlap, the one that started later."""
        found: DatedValue | None = None
        for value in self.values:
            if value.covers(on) and (
                found is None
                or (value.effective_from or dt.date.min) >= (found.effective_from or dt.date.min)
            ):
                found = value
        return found

    @property
    def is_scoring(self) -> bool:
        return self.points is not None

    @property
    def aside(self) -> Outcome:
        """The outcome when the gate does not apply: a hard gate stands aside (MET), a scoring
        item earns nothing (NOT_MET)."""
        return Outcome.NOT_MET if self.is_scoring else Outcome.MET

    @property
    def sources(self) -> tuple[Source, ...]:
        return tuple(v.source for v in self.values)


@dataclass(frozen=True, slots=True)
class KeyFactRule:
    topic: FactTopic
    text: str
    unclear: bool
    source: Source


@dataclass(frozen=True, slots=True)
class NextStep:
    """What the applicant (or their employer) does next, and the official page for it."""

    text: str
    url: str
    source: Source


@dataclass(frozen=True, slots=True)
class RouteOpenQuestion:
    topic: str
    text: str
    source: Source
    show_if: tuple[Clause, ...] = ()


_CITIZENSHIP_QUESTION: Final = QuestionRule(
    CITIZENSHIP, "Which countries are you a citizen of?", Kind.COUNTRIES, short_label="citizenship"
)


@dataclass(frozen=True, slots=True)
class RouteRules:
    slug: str
    name: str
    country: str
    currency: str
    requirements: tuple[RequirementRule, ...]
    official_name: str = ""
    summary: str = ""
    official_url: str = ""
    points_needed: int | None = None
    points_table_partial: bool = False
    points_table_partial_from: dt.date | None = None
    key_facts: tuple[KeyFactRule, ...] = ()
    open_questions: tuple[RouteOpenQuestion, ...] = ()
    next_steps: tuple[NextStep, ...] = ()
    last_verified_on: dt.date | None = None
    last_verified_by: str = ""
    review_interval_days: int = 90
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None  # the last day applications are taken
    citizenship_question: QuestionRule = _CITIZENSHIP_QUESTION

    @property
    def review_due_on(self) -> dt.date | None:
        if self.last_verified_on is None:
            return None
        return days_after(self.last_verified_on, self.review_interval_days)

    def is_overdue(self, on: dt.date) -> bool:
        due = self.review_due_on
        return due is not None and on > due

    def closure_on(self, on: dt.date) -> Closure | None:
        if self.opens_on is not None and on < self.opens_on:
            return Closure.NOT_YET_OPEN
        if self.closes_on is not None and on > self.closes_on:
            return Closure.CLOSED
        return None

    def table_partial_on(self, on: dt.date) -> bool:
        """Whether some points items are unpublished on a date (a low total is then unknown)."""
        since = self.points_table_partial_from
        return self.points_table_partial or (since is not None and on >= since)

    def key_fact(self, topic: FactTopic) -> KeyFactRule | None:
        return next((f for f in self.key_facts if f.topic == topic), None)

    def pathway_names(self) -> tuple[str, ...]:
        names = dict.fromkeys(r.pathway for r in self.requirements if r.pathway)
        return tuple(names) or ("",)

    @property
    def citizen_gate(self) -> RequirementRule:
        """Citizens of the destination need no visa: every route has this gate, whatever
        advisers entered, so no data can offer a Chinese citizen China's K visa."""
        source = Source(
            f"{self.name}: official page", self.official_url, self.last_verified_on or dt.date.min
        )
        return RequirementRule(
            id=0,
            question=self.citizenship_question,
            operator=Operator.NOT_IN,
            values=(DatedValue((self.country,), source),),
        )

    @property
    def gates(self) -> tuple[RequirementRule, ...]:
        return (self.citizen_gate, *self.requirements)


@dataclass(frozen=True, slots=True)
class RuleBook:
    """Everything the engine needs, detached from the database."""

    questions: tuple[QuestionRule, ...]
    routes: tuple[RouteRules, ...]
    version: str = ""

    def question(self, key: str) -> QuestionRule:
        return self.questions_by_key[key]

    @property
    def questions_by_key(self) -> dict[str, QuestionRule]:
        return {q.key: q for q in self.questions}


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True, slots=True)
class Gap:
    """How far a NOT_MET number is from the value: `amount` in `unit` (a currency code, the
    question's unit, or "" for a plain number)."""

    amount: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class GateCheck:
    """One gate on one date: its outcome, the value in force, and for UNKNOWN why, and the
    question whose answer would settle it (if any)."""

    outcome: Outcome
    value: DatedValue | None
    target: Any = None  # the value as compared on the date (a cut-off date for periods)
    why: Unknown | None = None
    awaits: str | None = None
    applies: bool = True  # False: its "applies only if" does not hold for this applicant


@dataclass(frozen=True, slots=True)
class RequirementResult:
    rule: RequirementRule
    outcome: Outcome
    answered: bool
    answer: Any
    check: GateCheck
    on: dt.date
    gap: Gap | None = None

    @property
    def value(self) -> DatedValue | None:
        return self.check.value

    @property
    def why(self) -> Unknown | None:
        return self.check.why


@dataclass(frozen=True, slots=True)
class PointsLine:
    group: str
    earned: int
    possible: int
    items: tuple[RequirementResult, ...]


@dataclass(frozen=True, slots=True)
class Points:
    earned: int
    possible: int
    needed: int | None
    outcome: Outcome
    lines: tuple[PointsLine, ...]
    partial: bool = False

    @property
    def short_by(self) -> int:
        return max(0, (self.needed or 0) - self.earned)


@dataclass(frozen=True, slots=True)
class PathwayResult:
    name: str
    outcome: Outcome
    requirements: tuple[RequirementResult, ...]
    points: Points | None


@dataclass(frozen=True, slots=True)
class OpenQuestionResult:
    """Something still open about a route. `result` is the gate it comes from, if any; `text`
    is an adviser's own wording (route open questions, notes on unclear and chance values)."""

    kind: OpenQuestionKind
    question_key: str | None = None
    result: RequirementResult | None = None
    text: str = ""
    source: Source | None = None
    topic: str = ""

    @property
    def decides(self) -> bool:
        """Could still decide the route (an answer, an unclear rule, chance), as opposed to
        the adviser's other things to know (fees, family, warnings)."""
        return self.kind is not OpenQuestionKind.ROUTE


@dataclass(frozen=True, slots=True)
class RouteResult:
    route: RouteRules
    verdict: Verdict
    on: dt.date
    pathways: tuple[PathwayResult, ...]
    requirements: tuple[RequirementResult, ...]
    points: Points | None
    closure: Closure | None = None
    gaps: tuple[RequirementResult, ...] = ()
    points_short: Points | None = None  # the nearest pathway's points, when they fall short
    points_gains: tuple[tuple[int, RequirementResult], ...] = ()
    open_questions: tuple[OpenQuestionResult, ...] = field(default=())

    @property
    def slug(self) -> str:
        return self.route.slug

    @property
    def decisive_pathway(self) -> PathwayResult:
        return _best_pathway(self.pathways)

    @property
    def needs_no_visa(self) -> bool:
        return self.closure is Closure.CITIZEN


# ---------------------------------------------------------------------------------------------
# One gate


_MISSING: Final = object()


def _as_number(value: Any) -> Decimal:
    if type(value) is int:  # not a bool: Decimal("True") is refused, Decimal(True) is 1
        return Decimal(value)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def days_after(day: dt.date, days: int) -> dt.date:
    """`days` days after `day` (before it, if negative); past either end of the calendar, that
    end, which every date is before or after all the same. A stored interval too long for any
    calendar (3,000,000 days) is no error."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


class UnreadableValue(ValueError):
    """A rule value of another kind than the question's answers: "abc" or None for a
    number, 5 for a choice, a list where one value is compared. Its gate is unknown."""


# Errors comparing an answer with a rule value can raise; each makes the gate unknown.
_CANNOT_COMPARE: Final = (ArithmeticError, TypeError, ValueError, LookupError, AttributeError)
_NUMBERS: Final = frozenset({Kind.INTEGER, Kind.DECIMAL, Kind.MONEY})
_ORDERED: Final = _NUMBERS | {Kind.ORDINAL}


def _is_value_of(question: QuestionRule, value: Any) -> bool:
    """Whether `value` is of the kind the question's answers are, so that an answer can be
    compared with it: a finite number for a number, True or False for yes or no, one of the
    choices for a choice, a two-letter code or one of the choices for a country."""
    if question.kind in _NUMBERS:
        if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
            return False
        return isinstance(value, int) or Decimal(value).is_finite()
    if question.kind is Kind.BOOLEAN:
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if value in _ranks(question.choices):
        return True
    code = question.kind in (Kind.COUNTRY, Kind.COUNTRIES)
    return code and len(value) == 2 and value.isascii() and value.isalpha() and value.isupper()


def _readable(question: QuestionRule, operator: Operator, target: Any) -> bool:
    """Whether an answer can be compared with every part of `target`."""
    if operator is Operator.ANSWERED:
        return True
    if operator in LIST_OPERATORS:
        return (
            isinstance(target, (tuple, list))
            and bool(target)
            and all(_is_value_of(question, item) for item in target)
        )
    if operator in ORDERING_OPERATORS and question.kind not in _ORDERED:
        return False
    return _is_value_of(question, target)


def _holds(question: QuestionRule, operator: Operator, answer: Any, target: Any) -> bool:
    """`answer operator target`; raises on values that cannot be compared. A list with some
    items that cannot be read still decides when one it can read settles it ("is one of A or
    (unreadable)" holds for A); otherwise it cannot be compared."""
    if _readable(question, operator, target):
        return _compare(question, operator, answer, target)
    if operator in LIST_OPERATORS and isinstance(target, (tuple, list)):
        readable = tuple(item for item in target if _is_value_of(question, item))
        if readable and _compare(question, Operator.IN, answer, readable):
            return operator is Operator.IN
    raise UnreadableValue(target)


def _compare(question: QuestionRule, operator: Operator, answer: Any, target: Any) -> bool:
    """`answer operator target`, for a target that _readable reads."""
    if operator is Operator.ANSWERED:
        return True
    if operator in LIST_OPERATORS:
        given = tuple(answer) if question.kind is Kind.COUNTRIES else (answer,)
        inside = any(item in tuple(target) for item in given)
        return inside if operator is Operator.IN else not inside
    if operator is Operator.EQ:
        return bool(answer == target)
    if operator is Operator.NE:
        return bool(answer != target)
    if question.kind is Kind.ORDINAL:
        left, right = Decimal(question.rank(answer)), Decimal(question.rank(target))
    else:
        left, right = _as_number(answer), _as_number(target)
    match operator:
        case Operator.LT:
            return left < right
        case Operator.LTE:
            return left <= right
        case Operator.GT:
            return left > right
        case _:
            return left >= right


def _period_outcome(operator: Operator, first: dt.date, last: dt.date, cutoff: dt.date) -> Outcome:
    """Whether a date known to lie in [first, last] is `operator cutoff`."""
    every, none = {
        Operator.GTE: (first >= cutoff, last < cutoff),
        Operator.GT: (first > cutoff, last <= cutoff),
        Operator.LTE: (last <= cutoff, first > cutoff),
        Operator.LT: (last < cutoff, first >= cutoff),
    }[operator]
    return Outcome.MET if every else Outcome.NOT_MET if none else Outcome.UNKNOWN


def _period_check(
    rule: RequirementRule, value: DatedValue, answers: Mapping[str, Any], on: dt.date
) -> GateCheck:
    if rule.operator not in ORDERING_OPERATORS or rule.question.kind is not Kind.INTEGER:
        raise UnreadableValue(value.value)  # a period is a year on or after, or before, a day
    cutoff = value.value.cutoff(on)
    year = int(answers[rule.question.key])
    month_key = rule.question.month_key
    month = answers.get(month_key) if month_key else None
    if month is not None:
        month = int(month)
        first = dt.date(year, month, 1)
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
    else:
        first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    outcome = _period_outcome(rule.operator, first, last, cutoff)
    if outcome is not Outcome.UNKNOWN:
        return GateCheck(outcome, value, cutoff)
    if month is None and month_key:
        why = Unknown.DONT_KNOW if month_key in answers else Unknown.NEEDS_MONTH
        return GateCheck(Outcome.UNKNOWN, value, cutoff, why, month_key)
    return GateCheck(Outcome.UNKNOWN, value, cutoff, Unknown.DAY_DECIDES)


def check_gate(rule: RequirementRule, answers: Mapping[str, Any], on: dt.date) -> GateCheck:
    """The gate's outcome on a date: see the module docstring."""
    check = _check_value(rule, answers, on)
    if not rule.applies_if:
        return check
    conditions = [check_gate(c, answers, on) for c in rule.applies_if]
    applies = all_of(c.outcome for c in conditions)
    if applies is Outcome.MET:
        return check
    if applies is Outcome.NOT_MET:
        return GateCheck(rule.aside, check.value, check.target, applies=False)
    # Whether it applies is unknown: a hard gate that holds anyway holds (it is "does not
    # apply, or holds"); a scoring item that fails anyway earns nothing ("applies and holds").
    if check.outcome is rule.aside:
        return check
    if check.outcome is Outcome.UNKNOWN:
        return check if check.awaits else dataclasses.replace(check, awaits=_awaited(conditions))
    pending = next(c for c in conditions if c.outcome is Outcome.UNKNOWN)
    return GateCheck(Outcome.UNKNOWN, check.value, check.target, pending.why, _awaited(conditions))


def _awaited(conditions: Sequence[GateCheck]) -> str | None:
    return next((c.awaits for c in conditions if c.awaits), None)


def _check_value(rule: RequirementRule, answers: Mapping[str, Any], on: dt.date) -> GateCheck:
    value = rule.value_on(on)
    if value is None:
        return GateCheck(Outcome.UNKNOWN, None, why=Unknown.UNPUBLISHED)
    if value.certainty is Certainty.UNCLEAR:
        return GateCheck(Outcome.UNKNOWN, value, why=Unknown.UNCLEAR)
    if value.certainty is Certainty.NOT_AVAILABLE:
        return GateCheck(Outcome.NOT_MET, value)
    if value.certainty is Certainty.NOT_REQUIRED:
        return GateCheck(rule.aside, value, applies=False)
    key = rule.question.key
    answer = answers.get(key, _MISSING)
    if answer is _MISSING or answer is None:
        why = Unknown.UNANSWERED if answer is _MISSING else Unknown.DONT_KNOW
        return GateCheck(Outcome.UNKNOWN, value, why=why, awaits=key)
    try:
        if isinstance(value.value, YearsBefore):
            check = _period_check(rule, value, answers, on)
        else:
            held = _holds(rule.question, rule.operator, answer, value.value)
            check = GateCheck(Outcome.MET if held else Outcome.NOT_MET, value, value.value)
    except _CANNOT_COMPARE:
        logger.error(
            "Gate %s (%s %s %r) cannot compare the answer %r; treated as unknown.",
            rule.id,
            key,
            rule.operator.value,
            value.value,
            answer,
        )
        return GateCheck(Outcome.UNKNOWN, value, why=Unknown.BAD_VALUE)
    if value.certainty is Certainty.CHANCE:
        # Subject to the lottery, quota or approval: it may go either way; not subject: met.
        if check.outcome is Outcome.NOT_MET:
            return GateCheck(Outcome.MET, value, check.target, applies=False)
        if check.outcome is Outcome.MET:
            return GateCheck(Outcome.UNKNOWN, value, check.target, Unknown.CHANCE)
    return check


def requirement_outcome(rule: RequirementRule, answers: Mapping[str, Any], on: dt.date) -> Outcome:
    return check_gate(rule, answers, on).outcome


def all_of(outcomes: Iterable[Outcome]) -> Outcome:
    seen_unknown = False
    for outcome in outcomes:
        if outcome is Outcome.NOT_MET:
            return Outcome.NOT_MET
        seen_unknown = seen_unknown or outcome is Outcome.UNKNOWN
    return Outcome.UNKNOWN if seen_unknown else Outcome.MET


def any_of(outcomes: Iterable[Outcome]) -> Outcome:
    seen_unknown = False
    for outcome in outcomes:
        if outcome is Outcome.MET:
            return Outcome.MET
        seen_unknown = seen_unknown or outcome is Outcome.UNKNOWN
    return Outcome.UNKNOWN if seen_unknown else Outcome.NOT_MET


_NO_SOURCE: Final = Source("", "", dt.date.min)


def condition_outcome(
    clauses: Sequence[Clause],
    questions: Mapping[str, QuestionRule],
    answers: Mapping[str, Any],
    on: dt.date,
) -> Outcome:
    """Whether every clause holds; a clause on an unknown question, or one whose value cannot
    be compared, is UNKNOWN."""
    return all_of(
        requirement_outcome(clause_gate(clause, questions.get(clause.question)), answers, on)
        for clause in clauses
    )


def clause_gate(clause: Clause, question: QuestionRule | None) -> RequirementRule:
    """A condition's clause as a gate of its own. A clause on a question that does not exist
    has no value, so it is UNKNOWN, never met."""
    if question is None:
        return RequirementRule(
            0, QuestionRule(clause.question, "", Kind.BOOLEAN), clause.operator, ()
        )
    return RequirementRule(0, question, clause.operator, (DatedValue(clause.value, _NO_SOURCE),))


# ---------------------------------------------------------------------------------------------
# Pathways and verdicts: decided once, for the full evaluation and the quick "what if" alike


def _group_totals(items: Iterable[tuple[RequirementRule, Outcome]]) -> tuple[int, int]:
    """(earned, possible) of one points group: only its best item counts."""
    earned = possible = 0
    for rule, outcome in items:
        points = rule.points or 0
        if outcome is Outcome.MET:
            earned = max(earned, points)
        if outcome is not Outcome.NOT_MET:
            possible = max(possible, points)
    return earned, possible


def _points_outcome(earned: int, possible: int, needed: int | None, partial: bool) -> Outcome:
    if needed is None or earned >= needed:
        return Outcome.MET
    if possible >= needed or partial:
        return Outcome.UNKNOWN
    return Outcome.NOT_MET


@dataclass(frozen=True, slots=True)
class _Pathway:
    """Where a pathway's gates stand in `route.gates`: its plain gates (the citizenship gate,
    the common gates, its own) and its scoring items by points group."""

    name: str
    members: tuple[int, ...]
    plain: tuple[int, ...]
    groups: dict[str, tuple[int, ...]]


def _layout(route: RouteRules, gates: Sequence[RequirementRule]) -> tuple[_Pathway, ...]:
    """Each pathway's gates, worked out once per evaluation rather than once per "what if"."""
    pathways = []
    for name in route.pathway_names():
        members = tuple(
            i for i, gate in enumerate(gates) if not gate.pathway or (name and gate.pathway == name)
        )
        groups: dict[str, list[int]] = {}
        for i in members:
            if gates[i].points is not None:
                groups.setdefault(gates[i].points_group, []).append(i)
        plain = tuple(i for i in members if gates[i].points is None)
        pathways.append(_Pathway(name, members, plain, {g: tuple(ix) for g, ix in groups.items()}))
    return tuple(pathways)


def _pathway_outcome(
    route: RouteRules,
    gates: Sequence[RequirementRule],
    outcomes: Sequence[Outcome],
    pathway: _Pathway,
    on: dt.date,
) -> tuple[Outcome, dict[str, tuple[int, int]]]:
    """A pathway's outcome from its gates' outcomes, with each points group's totals."""
    totals = {
        group: _group_totals((gates[i], outcomes[i]) for i in items)
        for group, items in pathway.groups.items()
    }
    results = [outcomes[i] for i in pathway.plain]
    if totals:
        earned = sum(t[0] for t in totals.values())
        possible = sum(t[1] for t in totals.values())
        results.append(
            _points_outcome(earned, possible, route.points_needed, route.table_partial_on(on))
        )
    return all_of(results), totals


def _closure(route: RouteRules, citizen: Outcome, on: dt.date) -> Closure | None:
    return route.closure_on(on) or (Closure.CITIZEN if citizen is Outcome.NOT_MET else None)


def _decide(
    route: RouteRules,
    gates: Sequence[RequirementRule],
    layout: Sequence[_Pathway],
    outcomes: Sequence[Outcome],
    on: dt.date,
) -> Verdict:
    """The verdict from each gate's outcome (in `route.gates` order, citizenship first): the
    one decision that the full evaluation and every "what if" make."""
    if _closure(route, outcomes[0], on) is not None:
        return Verdict.DOES_NOT_FIT
    overall = any_of(_pathway_outcome(route, gates, outcomes, p, on)[0] for p in layout)
    return _VERDICTS[overall]


_VERDICTS: Final = {
    Outcome.MET: Verdict.FITS,
    Outcome.UNKNOWN: Verdict.MAY_FIT,
    Outcome.NOT_MET: Verdict.DOES_NOT_FIT,
}


def verdict_of(
    route: RouteRules, outcomes: Sequence[tuple[RequirementRule, Outcome]], on: dt.date
) -> Verdict:
    """The verdict alone from each gate's outcome, paired with `route.gates` in order."""
    gates = [gate for gate, _ in outcomes]
    return _decide(route, gates, _layout(route, gates), [o for _, o in outcomes], on)


def gate_outcomes(
    route: RouteRules, answers: Mapping[str, Any], on: dt.date
) -> list[tuple[RequirementRule, GateCheck]]:
    return [(gate, check_gate(gate, answers, on)) for gate in route.gates]


def _gap(rule: RequirementRule, check: GateCheck, answer: Any, currency: str) -> Gap | None:
    """How far a NOT_MET number is from the value, when that can be said in numbers."""
    if rule.operator not in ORDERING_OPERATORS or check.value is None:
        return None
    kind = rule.question.kind
    if kind not in (Kind.INTEGER, Kind.DECIMAL, Kind.MONEY) or isinstance(
        check.target, (YearsBefore, dt.date)
    ):
        return None
    try:
        amount = abs(_as_number(check.target) - _as_number(answer))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return Gap(amount, currency if kind is Kind.MONEY else rule.question.unit)


def _best_pathway(pathways: Sequence[PathwayResult]) -> PathwayResult:
    """The pathway closest to success: met first, then unknown, then fewest unmet rules, then
    the smallest shortfall relative to the values."""
    rank = {Outcome.MET: 0, Outcome.UNKNOWN: 1, Outcome.NOT_MET: 2}

    def closeness(p: PathwayResult) -> tuple[int, int, int, Decimal]:
        unmet = [
            r for r in p.requirements if r.outcome is Outcome.NOT_MET and not r.rule.is_scoring
        ]
        short = p.points.short_by if p.points else 0
        relative = Decimal(0)  # a rule missed by a number counts its share; any other, 1
        for r in unmet:
            try:
                assert r.gap is not None
                relative += min(
                    r.gap.amount / max(abs(_as_number(r.check.target)), Decimal(1)), Decimal(1)
                )
            except (AssertionError, ArithmeticError, TypeError, ValueError):
                relative += 1
        return rank[p.outcome], len(unmet), short, relative

    return min(pathways, key=closeness)


def evaluate_route(route: RouteRules, answers: Mapping[str, Any], on: dt.date) -> RouteResult:
    """Evaluate one route: its verdict, each gate's outcome, points and gaps."""
    results = []
    for gate, check in gate_outcomes(route, answers, on):
        answer = answers.get(gate.question.key, _MISSING)
        answered = answer is not _MISSING
        gap = (
            _gap(gate, check, answer, route.currency)
            if check.outcome is Outcome.NOT_MET and check.applies
            else None
        )
        results.append(
            RequirementResult(
                gate, check.outcome, answered, answer if answered else None, check, on, gap
            )
        )
    gates = [r.rule for r in results]
    outcomes = [r.outcome for r in results]
    layout = _layout(route, gates)
    partial = route.table_partial_on(on)
    pathways: list[PathwayResult] = []
    for pathway in layout:
        outcome, totals = _pathway_outcome(route, gates, outcomes, pathway, on)
        points = None
        if totals:
            lines = tuple(
                PointsLine(
                    group, earned, possible, tuple(results[i] for i in pathway.groups[group])
                )
                for group, (earned, possible) in totals.items()
            )
            earned_all = sum(line.earned for line in lines)
            possible_all = sum(line.possible for line in lines)
            points = Points(
                earned_all,
                possible_all,
                route.points_needed,
                _points_outcome(earned_all, possible_all, route.points_needed, partial),
                lines,
                partial,
            )
        own = tuple(results[i] for i in pathway.members if i != 0)
        pathways.append(PathwayResult(pathway.name, outcome, own, points))
    closure = _closure(route, outcomes[0], on)
    verdict = _decide(route, gates, layout, outcomes, on)
    best = _best_pathway(pathways)
    gaps: tuple[RequirementResult, ...] = ()
    gains: list[tuple[int, RequirementResult]] = []
    short: Points | None = None
    unmet = [r for r in best.requirements if r.outcome is Outcome.NOT_MET and not r.rule.is_scoring]
    # Gaps say how far the numbers are, which helps only when nothing else rules the
    # pathway out: a salary gap means little without a job offer in that country.
    if closure is None and verdict is not Verdict.FITS and all(r.gap for r in unmet):
        gaps = tuple(unmet)
        if best.points and best.points.outcome is not Outcome.MET:
            short = best.points
            for line in best.points.lines:
                for item in line.items:
                    gain = (item.rule.points or 0) - line.earned
                    if item.outcome is not Outcome.MET and gain > 0:
                        gains.append((gain, item))
            gains = sorted(gains, key=lambda g: -g[0])[:3]
    points = next((p.points for p in [best, *pathways] if p.points), None)
    return RouteResult(
        route=route,
        verdict=verdict,
        on=on,
        pathways=tuple(pathways),
        requirements=tuple(results),
        points=points,
        closure=closure,
        gaps=gaps,
        points_short=short,
        points_gains=tuple(gains),
    )


def _open_questions(
    result: RouteResult, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> tuple[OpenQuestionResult, ...]:
    """What could still decide the route (unanswered questions that matter, unclear rules,
    chance), then the adviser's other things to know. A route that does not fit shows only
    the things to know: its unknowns cannot change that, nor those of a route that fits.
    Nothing is said twice."""
    found: list[OpenQuestionResult] = []
    if result.verdict is Verdict.MAY_FIT:  # a closed route does not fit: nothing decides it
        for key in deciding_questions(result.route, answers, on):
            kind = OpenQuestionKind.DONT_KNOW if key in answers else OpenQuestionKind.UNANSWERED
            found.append(OpenQuestionResult(kind, question_key=key))
        live = {p.name for p in result.pathways if p.outcome is not Outcome.NOT_MET}
        kinds = {
            Unknown.UNCLEAR: OpenQuestionKind.UNCLEAR_RULE,
            Unknown.BAD_VALUE: OpenQuestionKind.UNCLEAR_RULE,
            Unknown.DAY_DECIDES: OpenQuestionKind.UNCLEAR_RULE,
            Unknown.CHANCE: OpenQuestionKind.CHANCE,
            Unknown.UNPUBLISHED: OpenQuestionKind.UNPUBLISHED,
        }
        for pathway in result.pathways:
            if pathway.name not in live:
                continue
            for res in pathway.requirements:
                open_kind = kinds.get(res.why) if res.why else None
                if open_kind is None:
                    continue  # a shared gate shows in every pathway: _said_once keeps one
                value = res.value
                found.append(
                    OpenQuestionResult(
                        open_kind,
                        question_key=res.rule.question.key,
                        result=res,
                        text=value.note if value else "",
                        source=value.source if value else None,
                    )
                )
    questions = book.questions_by_key
    for item in result.route.open_questions:
        # Shown unless the answers rule it out: an unanswered condition might still hold.
        if condition_outcome(item.show_if, questions, answers, on) is not Outcome.NOT_MET:
            found.append(
                OpenQuestionResult(
                    OpenQuestionKind.ROUTE, text=item.text, source=item.source, topic=item.topic
                )
            )
    return _said_once(found)


def _said_once(items: Iterable[OpenQuestionResult]) -> tuple[OpenQuestionResult, ...]:
    """Items in order, without a second one in the same words (two gates with one note, an
    adviser's open question repeating a rule's note) or on the same unanswered question."""
    said: set[str] = set()
    kept = []
    for item in items:
        if item.kind in (OpenQuestionKind.UNANSWERED, OpenQuestionKind.DONT_KNOW):
            key = f"question:{item.question_key}"
        elif item.text:
            key = " ".join(item.text.split()).casefold()
        elif item.kind is OpenQuestionKind.UNPUBLISHED:
            key = f"unpublished:{item.question_key}"
        else:
            key = f"{item.kind}:{item.question_key}:{item.result and item.result.rule.id}"
        if key not in said:
            said.add(key)
            kept.append(item)
    return tuple(kept)


def deciding_questions(route: RouteRules, answers: Mapping[str, Any], on: dt.date) -> list[str]:
    """Unanswered or "don't know" questions whose answer could still change this route's
    verdict, alone or together with the other open answers.

    Alone: forcing the gates awaiting the question to MET and to NOT_MET gives different
    verdicts (a chance gate's answer can only make it MET or leave it to chance). But a
    pathway that needs two open answers (a comparable degree AND a job in its field) passes
    neither test alone, so for each pathway we also assume every other open answer inside it
    favourable and every open answer outside it unfavourable, and see whether the verdict
    then turns on this one. Verdicts are monotone in the outcomes, so a difference found
    under some assumption is one that real answers can produce."""
    base = gate_outcomes(route, answers, on)
    gates = [gate for gate, _ in base]
    checks = [check for _, check in base]
    layout = _layout(route, gates)
    outcomes = [check.outcome for check in checks]
    if _decide(route, gates, layout, outcomes, on) is not Verdict.MAY_FIT:
        return []
    awaiting = [i for i, check in enumerate(checks) if check.awaits]
    unknown = dict.fromkeys(checks[i].awaits for i in awaiting)
    scenarios: list[dict[str | None, Outcome]] = [{}]
    for pathway in layout:
        inside = {checks[i].awaits for i in awaiting if i in pathway.members}
        scenarios.append(
            {key: Outcome.MET if key in inside else Outcome.NOT_MET for key in unknown}
        )
    chance = {i for i in awaiting if (v := checks[i].value) and v.certainty is Certainty.CHANCE}

    def verdict_if(assume: Mapping[str | None, Outcome]) -> Verdict:
        assumed = list(outcomes)
        for i in awaiting:
            outcome = assume.get(checks[i].awaits)
            if outcome is not None:
                # A chance gate's answer can only make it met or leave it to chance.
                miss = i in chance and outcome is Outcome.NOT_MET
                assumed[i] = Outcome.UNKNOWN if miss else outcome
        return _decide(route, gates, layout, assumed, on)

    deciding = []
    for key in unknown:
        for assume in scenarios:
            if_met = verdict_if({**assume, key: Outcome.MET})
            if if_met is not verdict_if({**assume, key: Outcome.NOT_MET}):
                deciding.append(key)
                break
    return [key for key in deciding if key]


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    route: RouteRules
    verdict: Verdict


def verdicts(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> tuple[RouteVerdict, ...]:
    """Every route's verdict without the explanations, for the live panel."""
    return tuple(
        RouteVerdict(
            route,
            verdict_of(route, [(g, c.outcome) for g, c in gate_outcomes(route, answers, on)], on),
        )
        for route in book.routes
    )


def evaluate_routes(
    book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> tuple[RouteResult, ...]:
    """Evaluate every route of the rule book, with each route's open questions."""
    results = []
    for route in book.routes:
        result = evaluate_route(route, answers, on)
        results.append(_with_open_questions(result, book, answers, on))
    return tuple(results)


def _with_open_questions(
    result: RouteResult, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> RouteResult:
    return dataclasses.replace(result, open_questions=_open_questions(result, book, answers, on))


def questions_that_matter(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> set[str]:
    """Question keys not yet answered whose answer could change some route's verdict, plus
    the questions their "ask only if" conditions depend on."""
    matter: set[str] = set()
    for route in book.routes:
        matter.update(k for k in deciding_questions(route, answers, on) if k not in answers)
    for question in book.questions:
        if question.key in matter:
            matter.update(c.question for c in question.ask_if if c.question not in answers)
    return matter


def should_ask(
    question: QuestionRule, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> bool:
    """A question is asked when its "ask only if" holds (not merely might hold)."""
    return condition_outcome(question.ask_if, book.questions_by_key, answers, on) is Outcome.MET


# ---------------------------------------------------------------------------------------------
# Compiled routes: the questionnaire's quick questions, asked of every route on every step
#
# Each step of the questionnaire asks of every route "what is its verdict?" and "which open
# questions could still change it?" (deciding_questions), before and after the answer. The
# functions below answer both as the functions above do, from a form of each route worked out
# once per rule book and date: a gate whose outcome does not depend on the answers is settled
# once, the others read one answer each; outcomes are kept as bit masks (bit i: gate i of
# `route.gates`), so a pathway is decided by a few integer operations and each "what if" of
# deciding_questions costs a handful of them. Each compiled route also says which answers it
# reads, so that a result worked out for some answers can be kept for as long as those stay.


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    """A route as its quick questions need it, whatever the answers and the date: its gates
    (citizenship first, as in `route.gates`); per gate, the questions it reads (and so asks
    while it is open); every answer the route reads; and per pathway, the mask of its gates,
    of its plain gates, and its points groups as (bit, points at least 0), most first."""

    route: RouteRules
    gates: tuple[RequirementRule, ...]
    asks: tuple[tuple[str, ...], ...]
    reads: tuple[str, ...]
    members: tuple[int, ...]
    plain: tuple[int, ...]
    scoring: tuple[tuple[tuple[tuple[int, int], ...], ...], ...]


def gate_keys(gate: RequirementRule) -> Iterator[str]:
    """The questions a gate's outcome depends on, so those an open gate asks: its own, the
    month of a year, and what its "applies only if" asks."""
    for rule in (gate, *gate.applies_if):
        yield rule.question.key
        if rule.question.month_key:
            yield rule.question.month_key
        if rule is not gate:
            yield from gate_keys(rule)


def compile_route(route: RouteRules) -> CompiledRoute:
    gates = route.gates
    layout = _layout(route, gates)
    asks = tuple(tuple(dict.fromkeys(gate_keys(gate))) for gate in gates)
    return CompiledRoute(
        route=route,
        gates=gates,
        asks=asks,
        reads=tuple(dict.fromkeys(key for keys in asks for key in keys)),
        members=tuple(_mask(p.members) for p in layout),
        plain=tuple(_mask(p.plain) for p in layout),
        scoring=tuple(
            tuple(
                # Only the best item counts (see _group_totals), and never below nothing.
                tuple(sorted(((1 << i, max(gates[i].points or 0, 0)) for i in ix), key=_most))
                for ix in p.groups.values()
            )
            for p in layout
        ),
    )


def _most(item: tuple[int, int]) -> int:
    return -item[1]


def _mask(indexes: Iterable[int]) -> int:
    return sum(1 << i for i in set(indexes))


# The gates of a route that compare one answer, by question: (question key, mask of those
# gates, mask of those left to chance, each as (bit, question, operator, value, chance)).
_Compared = tuple[str, int, int, tuple[tuple[int, QuestionRule, Operator, Any, bool], ...]]


@dataclass(frozen=True, slots=True)
class RouteOnDate:
    """A compiled route on one date, each gate sorted by what its outcome needs: `settled`
    gates have the same outcome whatever the answers (no value in force, an unclear one, not
    available, not required), kept as two masks; `compared` gates compare one answer with
    their value, by question (see _Compared); the others (an "applies only if", a period, a
    value that cannot be read) go to check_gate."""

    route: CompiledRoute
    on: dt.date
    settled_not_met: int
    settled_unknown: int
    compared: tuple[_Compared, ...]
    others: tuple[_Other, ...]
    closed: bool
    partial: bool


# A check without "applies only if", on a date: (_SETTLED, rule, outcome), (_COMPARED, rule,
# value, left to chance) or (_PERIOD, rule).
_Simple = tuple[Any, ...]
_SETTLED, _COMPARED, _PERIOD = range(3)
# A gate with an "applies only if" (its own check, each condition's, whether its value is
# left to chance), or a period; None for the gate's own check: check_gate, whole.
_Other = tuple[int, RequirementRule, _Simple | None, tuple[_Simple, ...], bool]


def _simple(rule: RequirementRule, on: dt.date) -> _Simple:
    """The gate's own check on a date, as _check_value makes it, its "applies only if" aside."""
    value = rule.value_on(on)
    settled = _settled(rule, value)
    if settled is not None:
        return (_SETTLED, rule, settled)
    assert value is not None
    if isinstance(value.value, YearsBefore):
        return (_PERIOD, rule)
    return (_COMPARED, rule, value.value, value.certainty is Certainty.CHANCE)


def _simple_check(
    simple: _Simple, answers: Mapping[str, Any], on: dt.date
) -> tuple[Outcome, str | None]:
    """(outcome, question awaited) of _check_value, for a check compiled by _simple."""
    if simple[0] == _SETTLED:
        return simple[2], None
    rule = simple[1]
    if simple[0] == _COMPARED:
        key = rule.question.key
        answer = answers.get(key)
        if answer is None:
            return Outcome.UNKNOWN, key
        try:
            held = _holds(rule.question, rule.operator, answer, simple[2])
        except _CANNOT_COMPARE:
            pass  # _check_value logs it, and says what it makes of it
        else:
            if simple[3]:  # subject to chance: unknown; not subject: met
                return (Outcome.UNKNOWN if held else Outcome.MET), None
            return (Outcome.MET if held else Outcome.NOT_MET), None
    check = _check_value(rule, answers, on)
    return check.outcome, check.awaits


def _other_check(
    other: _Other, answers: Mapping[str, Any], on: dt.date
) -> tuple[Outcome, str | None]:
    """(outcome, question awaited) of check_gate, for a gate with an "applies only if"."""
    _, rule, own, conditions, _ = other
    if own is None:
        check = check_gate(rule, answers, on)
        return check.outcome, check.awaits
    outcome, awaits = _simple_check(own, answers, on)
    if not conditions:
        return outcome, awaits
    checked = [_simple_check(condition, answers, on) for condition in conditions]
    applies = all_of(o for o, _ in checked)
    if applies is Outcome.MET:
        return outcome, awaits
    if applies is Outcome.NOT_MET:
        return rule.aside, None
    # Whether it applies is unknown: see check_gate.
    if outcome is rule.aside:
        return outcome, awaits
    pending = next((a for _, a in checked if a), None)
    if outcome is Outcome.UNKNOWN:
        return outcome, awaits or pending
    return Outcome.UNKNOWN, pending


def route_on(route: CompiledRoute, on: dt.date) -> RouteOnDate:
    not_met = unknown = 0
    compared: dict[str, list[tuple[int, QuestionRule, Operator, Any, bool]]] = {}
    others: list[_Other] = []
    for i, rule in enumerate(route.gates):
        bit = 1 << i
        value = rule.value_on(on)
        settled = _settled(rule, value)
        if rule.applies_if or (value is not None and isinstance(value.value, YearsBefore)):
            chance = value is not None and value.certainty is Certainty.CHANCE
            if any(condition.applies_if for condition in rule.applies_if):
                others.append((bit, rule, None, (), chance))
            else:
                conditions = tuple(_simple(c, on) for c in rule.applies_if)
                others.append((bit, rule, _simple(rule, on), conditions, chance))
        elif settled is Outcome.NOT_MET:
            not_met |= bit
        elif settled is Outcome.UNKNOWN:
            unknown |= bit
        elif settled is None and value is not None:
            chance = value.certainty is Certainty.CHANCE
            if _readable(rule.question, rule.operator, value.value):
                compared.setdefault(rule.question.key, []).append(
                    (bit, rule.question, rule.operator, value.value, chance)
                )
            else:  # rare: check_gate says what it makes of it, for each answer
                others.append((bit, rule, _simple(rule, on), (), chance))
    return RouteOnDate(
        route=route,
        on=on,
        settled_not_met=not_met,
        settled_unknown=unknown,
        compared=tuple(
            (
                key,
                _mask(bit.bit_length() - 1 for bit, *_ in gates),
                _mask(bit.bit_length() - 1 for bit, *_, chance in gates if chance),
                tuple(gates),
            )
            for key, gates in compared.items()
        ),
        others=tuple(others),
        closed=route.route.closure_on(on) is not None,
        partial=route.route.table_partial_on(on),
    )


def _settled(rule: RequirementRule, value: DatedValue | None) -> Outcome | None:
    """The outcome _check_value gives whatever the answer, if it does."""
    if value is None or value.certainty is Certainty.UNCLEAR:
        return Outcome.UNKNOWN
    if value.certainty is Certainty.NOT_AVAILABLE:
        return Outcome.NOT_MET
    if value.certainty is Certainty.NOT_REQUIRED:
        return rule.aside
    return None


@dataclass(frozen=True, slots=True)
class Standing:
    """A route under some answers on a date: its verdict; the masks of its gates NOT_MET and
    UNKNOWN (the others are MET); each question an open gate awaits, with the mask of the
    gates awaiting it, in the order of `route.gates`; and the mask of the awaiting gates that
    are left to chance."""

    verdict: Verdict
    not_met: int
    unknown: int
    awaited: tuple[tuple[str, int], ...]
    chance: int


def standing(route: RouteOnDate, answers: Mapping[str, Any]) -> Standing:
    """The verdict and gate outcomes that verdict_of(gate_outcomes(...)) gives. Reads only the
    answers in `route.route.reads`."""
    not_met, unknown, chance = route.settled_not_met, route.settled_unknown, 0
    awaited: dict[str, int] = {}
    for key, gates, by_chance, comparisons in route.compared:
        answer = answers.get(key)
        if answer is None:  # unanswered or "I don't know": every such gate awaits it
            unknown |= gates
            awaited[key] = gates
            chance |= by_chance
            continue
        for bit, question, operator, target, left_to_chance in comparisons:
            try:
                held = _compare(question, operator, answer, target)
            except _CANNOT_COMPARE:  # check_gate logs it, and says what it makes of it
                check = check_gate(route.route.gates[bit.bit_length() - 1], answers, route.on)
                if check.outcome is Outcome.NOT_MET:
                    not_met |= bit
                elif check.outcome is Outcome.UNKNOWN:
                    unknown |= bit
                continue
            if left_to_chance:  # subject to chance: unknown; not subject: met
                if held:
                    unknown |= bit
            elif not held:
                not_met |= bit

    for other in route.others:
        outcome, awaits = _other_check(other, answers, route.on)
        bit = other[0]
        if outcome is Outcome.NOT_MET:
            not_met |= bit
        elif outcome is Outcome.UNKNOWN:
            unknown |= bit
        if awaits:
            awaited[awaits] = awaited.get(awaits, 0) | bit
            if other[4]:  # its value is left to chance
                chance |= bit

    # In the order of the first gate awaiting each (its lowest bit), as deciding_questions
    # lists them. A gate awaits one question, so no two share a lowest bit.
    firsts = sorted((mask & -mask, key, mask) for key, mask in awaited.items())
    order = tuple((key, mask) for _, key, mask in firsts)
    return Standing(_verdict(route, not_met, unknown), not_met, unknown, order, chance)


def open_asks(route: CompiledRoute, now: Standing) -> set[str]:
    """For a route that may fit, every question its open gates ask (could_still_ask)."""
    if now.verdict is not Verdict.MAY_FIT:
        return set()
    unknown = now.unknown
    return {key for i, keys in enumerate(route.asks) if unknown >> i & 1 for key in keys}


def _verdict(route: RouteOnDate, not_met: int, unknown: int) -> Verdict:
    """_decide on masks."""
    if route.closed or not_met & 1:  # closed, or a citizen of the destination
        return Verdict.DOES_NOT_FIT
    compiled = route.route
    pathways = zip(compiled.plain, compiled.scoring, strict=True)
    return _best_of(pathways, not_met, unknown, compiled.route.points_needed, route.partial)


_Pathways = Iterable[tuple[int, tuple[tuple[tuple[int, int], ...], ...]]]


def _best_of(
    pathways: _Pathways, not_met: int, unknown: int, needed: int | None, partial: bool
) -> Verdict:
    """FITS if some pathway is met, MAY_FIT if none is but some may be, else DOES_NOT_FIT:
    _pathway_holds on masks, for each (plain gates, points groups)."""
    undecided = False
    for plain, scoring in pathways:
        if not_met & plain:
            continue
        outcome = Outcome.UNKNOWN if unknown & plain else Outcome.MET
        if scoring:
            points = _points_on_masks(scoring, not_met, unknown, needed, partial)
            if points is Outcome.NOT_MET:
                continue
            if points is Outcome.UNKNOWN:
                outcome = Outcome.UNKNOWN
        if outcome is Outcome.MET:
            return Verdict.FITS
        undecided = True
    return Verdict.MAY_FIT if undecided else Verdict.DOES_NOT_FIT


def _points_on_masks(
    scoring: tuple[tuple[tuple[int, int], ...], ...],
    not_met: int,
    unknown: int,
    needed: int | None,
    partial: bool,
) -> Outcome:
    """_pathway_holds's points on masks: in each group the best item met counts (earned), and
    the best item not failed (possible)."""
    open_or_failed = not_met | unknown
    earned = possible = 0
    for group in scoring:
        for bit, points in group:
            if not open_or_failed & bit:
                earned += points
                break
        for bit, points in group:
            if not not_met & bit:
                possible += points
                break
    return _points_outcome(earned, possible, needed, partial)


def deciding(route: RouteOnDate, now: Standing, skip: Container[str] = ()) -> tuple[str, ...]:
    """deciding_questions from the route's standing, less the questions in `skip` (those
    already known to decide some route, say): the same questions, in the same order, by the
    same test, with less work. A pathway that fails whatever the open answers (a gate not
    met, or too few points even if every open item were met) fails under every assumption,
    so only the questions of the other pathways are tried; an assumption is tried once
    however many pathways make it; each "what if" is two verdicts on masks."""
    if now.verdict is not Verdict.MAY_FIT:
        return ()
    awaited = [(key, mask) for key, mask in now.awaited if key not in skip]
    if not awaited:
        return ()
    compiled = route.route
    needed, partial = compiled.route.points_needed, route.partial
    live = []
    live_gates = 0
    for members, plain, scoring in zip(
        compiled.members, compiled.plain, compiled.scoring, strict=True
    ):
        if now.not_met & plain or (
            scoring
            and _points_on_masks(scoring, now.not_met, now.unknown, needed, partial)
            is Outcome.NOT_MET
        ):
            continue
        live.append((plain, scoring))
        live_gates |= members
    chance = now.chance
    open_keys = [(key, mask) for key, mask in awaited if mask & live_gates]
    found: set[str] = set()

    def turns_on(not_met: int, unknown: int) -> None:
        """Add to `found` each open question on which the verdict turns, the other gates
        as in these masks."""
        for key, mask in open_keys:
            if key in found:
                continue
            not_met_else, unknown_else = not_met & ~mask, unknown & ~mask
            if_met = _best_of(live, not_met_else, unknown_else, needed, partial)
            # A chance gate's answer can only make it met or leave it to chance.
            if_not = _best_of(
                live, not_met_else | mask & ~chance, unknown_else | mask & chance, needed, partial
            )
            if if_met is not if_not:
                found.add(key)

    turns_on(now.not_met, now.unknown)  # no assumption about the other open answers
    if len(found) < len(open_keys):
        # Then for each pathway: its open answers favourable, the others not.
        awaiting = 0
        for _, mask in now.awaited:
            awaiting |= mask
        tried: set[int] = set()
        for members in compiled.members:
            favourable = 0
            for _, mask in now.awaited:
                if mask & members:
                    favourable |= mask
            if favourable & live_gates in tried:
                continue
            tried.add(favourable & live_gates)
            unfavourable = awaiting & ~favourable
            turns_on(
                now.not_met & ~awaiting | unfavourable & ~chance,
                now.unknown & ~awaiting | unfavourable & chance,
            )
            if len(found) == len(open_keys):
                break
    return tuple(key for key, _ in awaited if key in found)


def uncovered_dates(
    rule: RequirementRule, start: dt.date, end: dt.date
) -> list[tuple[dt.date, dt.date]]:
    """The spans within [start, end] on which no value of the gate is in force."""
    edges = {start}
    for value in rule.values:
        if value.effective_from and start <= value.effective_from <= end:
            edges.add(value.effective_from)
        if value.effective_until and start <= value.effective_until < end:
            edges.add(value.effective_until + dt.timedelta(days=1))
    spans: list[tuple[dt.date, dt.date]] = []
    points = sorted(edges)
    for i, first in enumerate(points):
        last = points[i + 1] - dt.timedelta(days=1) if i + 1 < len(points) else end
        if rule.value_on(first) is None:
            if spans and spans[-1][1] + dt.timedelta(days=1) == first:
                spans[-1] = (spans[-1][0], last)
            else:
                spans.append((first, last))
    return spans
