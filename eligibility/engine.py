"""The evaluation engine: answers + a snapshot of published rules + a date in, verdicts out.

Pure and typed: no ORM, no request, no clock. Everything that decides a verdict lives here.

Three-valued logic
------------------
Each requirement in force on the evaluation date has an outcome:

* MET or NOT_MET when the rule is settled and the applicant answered;
* UNKNOWN when the question is unanswered (key missing) or answered "I don't know" (None),
  and always when the rule itself is *unclear*: an unclear rule never yields MET (nor
  NOT_MET); it yields an open question instead of a guess.

Outcomes combine with Kleene's strong logic. A *pathway* holds when every common requirement
(blank pathway) and every requirement of that pathway holds (AND: any NOT_MET gives NOT_MET,
else any UNKNOWN gives UNKNOWN). A route FITS when some pathway is MET, MAY FIT when none is
MET but some is UNKNOWN, and DOES NOT FIT when every pathway is NOT_MET (OR).

Requirements with points are scoring items, not gates. Within a points group only the best
MET item counts and groups add up (*earned*); counting UNKNOWN items as well gives the most
still *possible*. A pathway with scoring items also needs the route's points: MET when
earned >= needed, UNKNOWN when possible >= needed (or the route's table is only partly
published), NOT_MET otherwise.

Because an answer can only turn UNKNOWN into MET or NOT_MET, and points cannot be negative,
answering one more question never changes a settled verdict (FITS or DOES NOT FIT).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final


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
    UNCLEAR = "unclear", "Unclear"


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


class Verdict(Labelled):
    FITS = "fits", "Fits"
    MAY_FIT = "may_fit", "May fit"
    DOES_NOT_FIT = "does_not_fit", "Does not fit"


class OpenQuestionKind(StrEnum):
    UNANSWERED = "unanswered"
    DONT_KNOW = "dont_know"
    UNCLEAR_RULE = "unclear_rule"
    ROUTE = "route"


# ---------------------------------------------------------------------------------------------
# The rules snapshot


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str
    as_of: dt.date


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

    @property
    def name(self) -> str:
        """A short name for rule descriptions: "Age" rather than "How old are you?"."""
        name = self.short_label or self.label
        return name[:1].upper() + name[1:]

    def choice_label(self, value: str) -> str:
        return dict(self.choices).get(value, value)

    def rank(self, value: str) -> int:
        return [v for v, _ in self.choices].index(value)


@dataclass(frozen=True, slots=True)
class YearsBefore:
    """A year relative to the evaluation date, e.g. "graduated within the last 3 years"."""

    years: int

    def resolve(self, on: dt.date) -> int:
        return on.year - self.years


@dataclass(frozen=True, slots=True)
class RequirementRule:
    id: int
    question: QuestionRule
    operator: Operator
    value: Any
    source: Source
    pathway: str = ""
    certainty: Certainty = Certainty.SETTLED
    points: int | None = None
    points_group: str = ""
    met_text: str = ""
    not_met_text: str = ""
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_until is None or on <= self.effective_until
        )

    @property
    def is_scoring(self) -> bool:
        return self.points is not None


@dataclass(frozen=True, slots=True)
class KeyFactRule:
    topic: FactTopic
    text: str
    unclear: bool
    source: Source


@dataclass(frozen=True, slots=True)
class RouteOpenQuestion:
    topic: str
    text: str
    source: Source
    show_if: tuple[Clause, ...] = ()


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
    key_facts: tuple[KeyFactRule, ...] = ()
    open_questions: tuple[RouteOpenQuestion, ...] = ()
    last_verified_on: dt.date | None = None
    last_verified_by: str = ""
    review_interval_days: int = 90

    @property
    def review_due_on(self) -> dt.date | None:
        if self.last_verified_on is None:
            return None
        return self.last_verified_on + dt.timedelta(days=self.review_interval_days)

    def is_overdue(self, on: dt.date) -> bool:
        due = self.review_due_on
        return due is not None and on > due

    def key_fact(self, topic: FactTopic) -> KeyFactRule | None:
        return next((f for f in self.key_facts if f.topic == topic), None)

    def pathway_names(self) -> tuple[str, ...]:
        names = dict.fromkeys(r.pathway for r in self.requirements if r.pathway)
        return tuple(names) or ("",)


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
class RequirementResult:
    rule: RequirementRule
    outcome: Outcome
    answered: bool
    answer: Any
    explanation: str
    gap: str | None = None

    @property
    def description(self) -> str:
        return describe_rule(self.rule)


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
    kind: OpenQuestionKind
    text: str
    question_key: str | None = None
    source: Source | None = None
    topic: str = ""


@dataclass(frozen=True, slots=True)
class RouteResult:
    route: RouteRules
    verdict: Verdict
    reason: str
    pathways: tuple[PathwayResult, ...]
    requirements: tuple[RequirementResult, ...]
    points: Points | None
    gaps: tuple[str, ...]
    open_questions: tuple[OpenQuestionResult, ...] = field(default=())

    @property
    def slug(self) -> str:
        return self.route.slug

    @property
    def decisive_pathway(self) -> PathwayResult:
        return _best_pathway(self.pathways)


# ---------------------------------------------------------------------------------------------
# Evaluation

_MISSING: Final = object()


def _as_number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _resolve(value: Any, on: dt.date) -> Any:
    return value.resolve(on) if isinstance(value, YearsBefore) else value


def _compare(question: QuestionRule, operator: Operator, answer: Any, target: Any) -> bool:
    if operator is Operator.ANSWERED:
        return True
    if operator in LIST_OPERATORS:
        inside = answer in tuple(target)
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


def requirement_outcome(rule: RequirementRule, answers: Mapping[str, Any], on: dt.date) -> Outcome:
    if rule.certainty is Certainty.UNCLEAR:
        return Outcome.UNKNOWN
    answer = answers.get(rule.question.key, _MISSING)
    if answer is _MISSING or answer is None:
        return Outcome.UNKNOWN
    target = _resolve(rule.value, on)
    return (
        Outcome.MET if _compare(rule.question, rule.operator, answer, target) else Outcome.NOT_MET
    )


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


def condition_outcome(
    clauses: Sequence[Clause],
    questions: Mapping[str, QuestionRule],
    answers: Mapping[str, Any],
    on: dt.date,
) -> Outcome:
    """Whether every clause holds; a clause on an unknown question is UNKNOWN."""
    outcomes = []
    for clause in clauses:
        question = questions.get(clause.question)
        if question is None:
            outcomes.append(Outcome.UNKNOWN)
            continue
        rule = RequirementRule(
            id=0,
            question=question,
            operator=clause.operator,
            value=clause.value,
            source=_NO_SOURCE,
        )
        outcomes.append(requirement_outcome(rule, answers, on))
    return all_of(outcomes)


_NO_SOURCE: Final = Source("", "", dt.date.min)

_SYMBOLS: Final = {
    "EUR": "€",
    "USD": "$",
    "GBP": "£",
    "NZD": "NZ$",
    "KRW": "₩",
    "JPY": "¥",
    "CNY": "CN¥",
}


def format_money(amount: Decimal | int | float, currency: str) -> str:
    amount = _as_number(amount)
    places = 0 if amount == amount.to_integral_value() else 2
    number = f"{amount:,.{places}f}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def format_value(question: QuestionRule, value: Any, currency: str = "") -> str:
    """A value as an applicant would write it."""
    if value is None:
        return "I don't know"
    if isinstance(value, YearsBefore):
        return f"{value.years} years before the evaluation year"
    if isinstance(value, (list, tuple)):
        return ", ".join(format_value(question, v, currency) for v in value)
    match question.kind:
        case Kind.BOOLEAN:
            return "yes" if value else "no"
        case Kind.CHOICE | Kind.ORDINAL | Kind.COUNTRY:
            return question.choice_label(str(value))
        case Kind.MONEY if currency:
            return format_money(value, currency)
        case Kind.MONEY | Kind.DECIMAL:
            return f"{_as_number(value):,f}"  # "52,000", never "5.2E+4"
        case _:
            return str(value)


def describe_rule(rule: RequirementRule, currency: str = "") -> str:
    """The rule in one line, e.g. "Offered salary ≥ €50,700"."""
    question = rule.question
    if rule.certainty is Certainty.UNCLEAR:
        return rule.met_text or f"{question.name} (unclear rule)"
    if rule.operator is Operator.ANSWERED:
        return f"{question.name}: any answer"
    shown = format_value(question, rule.value, currency)
    return f"{question.name} {rule.operator.label} {shown}"


def _gap(rule: RequirementRule, answer: Any, currency: str, on: dt.date) -> str | None:
    """How far a not-met answer is from the rule, when that can be said in numbers."""
    question = rule.question
    if rule.operator not in ORDERING_OPERATORS:
        return None
    target = _resolve(rule.value, on)
    if question.kind is Kind.ORDINAL:
        wanted = question.choice_label(target)
        word = "or higher" if rule.operator in (Operator.GT, Operator.GTE) else "or lower"
        return f"Needs {wanted} {word}; you have {question.choice_label(answer)}."
    if isinstance(rule.value, YearsBefore):
        word = "or later" if rule.operator in (Operator.GT, Operator.GTE) else "or earlier"
        return f"Needs {target} {word}; you have {answer}."
    difference = abs(_as_number(target) - _as_number(answer))
    if question.kind is Kind.MONEY:
        amount, limit = format_money(difference, currency), format_money(target, currency)
    else:
        amount, limit = f"{difference:,f}", f"{_as_number(target):,f}"
    when = ""
    if rule.effective_from and (rule.effective_from.month, rule.effective_from.day) == (1, 1):
        when = f"{rule.effective_from.year} "
    if rule.operator in (Operator.GT, Operator.GTE):
        return f"{amount} below the {when}threshold of {limit}."
    return f"{amount} above the {when}limit of {limit}."


def _explain(rule: RequirementRule, outcome: Outcome, answered: bool, currency: str) -> str:
    if outcome is Outcome.MET:
        return rule.met_text or f"Met: {describe_rule(rule, currency)}."
    if outcome is Outcome.NOT_MET:
        return rule.not_met_text or f"Not met: {describe_rule(rule, currency)}."
    if rule.certainty is Certainty.UNCLEAR:
        return f"Unclear rule: {rule.met_text or rule.question.label}"
    if answered:
        return f"You don't know yet: {describe_rule(rule, currency)}."
    return f"Not answered yet: {describe_rule(rule, currency)}."


def _requirement_result(
    rule: RequirementRule,
    answers: Mapping[str, Any],
    on: dt.date,
    currency: str,
) -> RequirementResult:
    answer = answers.get(rule.question.key, _MISSING)
    answered = answer is not _MISSING
    outcome = requirement_outcome(rule, answers, on)
    gap = _gap(rule, answer, currency, on) if outcome is Outcome.NOT_MET else None
    return RequirementResult(
        rule=rule,
        outcome=outcome,
        answered=answered,
        answer=answer if answered else None,
        explanation=_explain(rule, outcome, answered, currency),
        gap=gap,
    )


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


def _points(items: Sequence[RequirementResult], needed: int | None, partial: bool) -> Points | None:
    if not items:
        return None
    groups: dict[str, list[RequirementResult]] = {}
    for item in items:
        groups.setdefault(item.rule.points_group, []).append(item)
    lines = []
    for group, members in groups.items():
        earned, possible = _group_totals((m.rule, m.outcome) for m in members)
        lines.append(PointsLine(group, earned, possible, tuple(members)))
    earned = sum(line.earned for line in lines)
    possible = sum(line.possible for line in lines)
    outcome = _points_outcome(earned, possible, needed, partial)
    return Points(earned, possible, needed, outcome, tuple(lines), partial)


def verdict_of(route: RouteRules, outcomes: Sequence[tuple[RequirementRule, Outcome]]) -> Verdict:
    """The verdict alone, from the outcome of each requirement in force: the same logic as
    evaluate_route without any wording, for the many "what if" questions asked per step."""
    common = [pair for pair in outcomes if not pair[0].pathway]
    seen_unknown = False
    for name in route.pathway_names():
        own = common + [pair for pair in outcomes if name and pair[0].pathway == name]
        gates = [outcome for rule, outcome in own if rule.points is None]
        groups: dict[str, list[tuple[RequirementRule, Outcome]]] = {}
        for pair in own:
            if pair[0].points is not None:
                groups.setdefault(pair[0].points_group, []).append(pair)
        if groups:
            totals = [_group_totals(items) for items in groups.values()]
            earned, possible = sum(t[0] for t in totals), sum(t[1] for t in totals)
            gates.append(
                _points_outcome(earned, possible, route.points_needed, route.points_table_partial)
            )
        outcome = all_of(gates)
        if outcome is Outcome.MET:
            return Verdict.FITS
        seen_unknown = seen_unknown or outcome is Outcome.UNKNOWN
    return Verdict.MAY_FIT if seen_unknown else Verdict.DOES_NOT_FIT


def _best_pathway(pathways: Sequence[PathwayResult]) -> PathwayResult:
    """The pathway closest to success: met first, then unknown, then fewest unmet rules."""
    rank = {Outcome.MET: 0, Outcome.UNKNOWN: 1, Outcome.NOT_MET: 2}

    def closeness(p: PathwayResult) -> tuple[int, int, int]:
        unmet = sum(r.outcome is Outcome.NOT_MET for r in p.requirements if not r.rule.is_scoring)
        short = p.points.short_by if p.points else 0
        return rank[p.outcome], unmet, short

    return min(pathways, key=closeness)


def _points_hints(points: Points, currency: str) -> list[str]:
    hints = [
        f"{points.short_by} point{'s' if points.short_by != 1 else ''} short "
        f"({points.earned} of {points.needed} needed)."
    ]
    gains: list[tuple[int, str]] = []
    for line in points.lines:
        for item in line.items:
            gain = (item.rule.points or 0) - line.earned
            if item.outcome is not Outcome.MET and gain > 0:
                gains.append((gain, describe_rule(item.rule, currency)))
    for gain, description in sorted(gains, key=lambda g: -g[0])[:3]:
        hints.append(f"{description} would add {gain}.")
    return hints


def evaluate_route(
    route: RouteRules,
    answers: Mapping[str, Any],
    on: dt.date,
) -> RouteResult:
    """Evaluate one route: its verdict, why, each requirement's outcome, points and gaps."""
    in_force = [r for r in route.requirements if r.in_force(on)]
    results = [_requirement_result(r, answers, on, route.currency) for r in in_force]
    common = [res for res in results if not res.rule.pathway]
    pathways: list[PathwayResult] = []
    for name in route.pathway_names():
        own = common + [res for res in results if res.rule.pathway == name and name]
        gates = [res.outcome for res in own if not res.rule.is_scoring]
        points = _points(
            [res for res in own if res.rule.is_scoring],
            route.points_needed,
            route.points_table_partial,
        )
        if points is not None:
            gates.append(points.outcome)
        pathways.append(PathwayResult(name, all_of(gates), tuple(own), points))

    outcome = any_of(p.outcome for p in pathways)
    verdict = {
        Outcome.MET: Verdict.FITS,
        Outcome.UNKNOWN: Verdict.MAY_FIT,
        Outcome.NOT_MET: Verdict.DOES_NOT_FIT,
    }[outcome]
    best = _best_pathway(pathways)
    gaps: list[str] = []
    unmet = [r for r in best.requirements if r.outcome is Outcome.NOT_MET and not r.rule.is_scoring]
    # Hints say how far the numbers are, which helps only when nothing else rules the
    # pathway out: a salary gap means little without a job offer in that country.
    if verdict is not Verdict.FITS and all(r.gap for r in unmet):
        gaps = [r.gap for r in unmet if r.gap]
        if best.points and best.points.outcome is not Outcome.MET:
            gaps += _points_hints(best.points, route.currency)
    points = next((p.points for p in [best, *pathways] if p.points), None)
    return RouteResult(
        route=route,
        verdict=verdict,
        reason=_reason(verdict, best),
        pathways=tuple(pathways),
        requirements=tuple(results),
        points=points,
        gaps=tuple(gaps),
    )


def _reason(verdict: Verdict, best: PathwayResult) -> str:
    via = f" ({best.name})" if best.name else ""
    if verdict is Verdict.FITS:
        return f"You meet every requirement{via}."
    if verdict is Verdict.DOES_NOT_FIT:
        unmet = next(
            (
                r
                for r in best.requirements
                if r.outcome is Outcome.NOT_MET and not r.rule.is_scoring
            ),
            None,
        )
        if unmet is not None:
            return unmet.explanation
        return "Not enough points." if best.points else "A requirement is not met."
    unknown = [
        r for r in best.requirements if r.outcome is Outcome.UNKNOWN and not r.rule.is_scoring
    ]
    unclear = [r for r in unknown if r.rule.certainty is Certainty.UNCLEAR]
    if unclear:
        what = unclear[0].explanation.removeprefix("Unclear rule: ")
        return f"Depends on a rule that is not clear yet{via}: {what}"
    if unknown:
        labels = list(dict.fromkeys(r.rule.question.label for r in unknown))
        return f"Depends on your answer to: {'; '.join(labels[:3])}"
    return "Depends on your points total, which is not settled yet."


def _open_questions(
    result: RouteResult, book: RuleBook, answers: Mapping[str, Any], on: dt.date
) -> tuple[OpenQuestionResult, ...]:
    found: list[OpenQuestionResult] = []
    if result.verdict is Verdict.MAY_FIT:
        for key in deciding_questions(result.route, answers, on):
            question = book.questions_by_key[key]
            if key in answers:
                found.append(
                    OpenQuestionResult(
                        OpenQuestionKind.DONT_KNOW,
                        f'You answered "I don\'t know" to "{question.label}"; the answer decides '
                        "this route.",
                        question_key=key,
                    )
                )
            else:
                found.append(
                    OpenQuestionResult(
                        OpenQuestionKind.UNANSWERED,
                        f'Not answered yet: "{question.label}" could decide this route.',
                        question_key=key,
                    )
                )
    live = {p.name for p in result.pathways if p.outcome is not Outcome.NOT_MET}
    seen: set[int] = set()
    for pathway in result.pathways:
        if pathway.name not in live:
            continue
        for res in pathway.requirements:
            if res.rule.certainty is Certainty.UNCLEAR and res.rule.id not in seen:
                seen.add(res.rule.id)
                found.append(
                    OpenQuestionResult(
                        OpenQuestionKind.UNCLEAR_RULE,
                        res.rule.met_text or res.rule.not_met_text or res.rule.question.label,
                        question_key=res.rule.question.key,
                        source=res.rule.source,
                    )
                )
    questions = book.questions_by_key
    for item in result.route.open_questions:
        # Shown unless the answers rule it out: an unanswered condition might still hold.
        if condition_outcome(item.show_if, questions, answers, on) is not Outcome.NOT_MET:
            found.append(
                OpenQuestionResult(
                    OpenQuestionKind.ROUTE, item.text, source=item.source, topic=item.topic
                )
            )
    return tuple(found)


def deciding_questions(route: RouteRules, answers: Mapping[str, Any], on: dt.date) -> list[str]:
    """Unanswered or "don't know" questions whose answer could still change this route's
    verdict, alone or together with the other open answers.

    Alone: forcing the question's rules to MET and to NOT_MET gives different verdicts. But a
    pathway that needs two open answers (a comparable degree AND a job in its field) passes
    neither test alone, so for each pathway we also assume every other open answer inside it
    favourable and every open answer outside it unfavourable, and see whether the verdict
    then turns on this one. Verdicts are monotone in the outcomes, so a difference found
    under some assumption is one that real answers can produce."""
    base = [(r, requirement_outcome(r, answers, on)) for r in route.requirements if r.in_force(on)]
    if verdict_of(route, base) is not Verdict.MAY_FIT:
        return []
    open_rules = [
        r
        for r, _ in base
        if r.certainty is Certainty.SETTLED and answers.get(r.question.key) is None
    ]
    unknown = dict.fromkeys(r.question.key for r in open_rules)
    scenarios: list[dict[str, Outcome]] = [{}]
    for name in route.pathway_names():
        inside = {r.question.key for r in open_rules if not r.pathway or r.pathway == name}
        scenarios.append(
            {key: Outcome.MET if key in inside else Outcome.NOT_MET for key in unknown}
        )

    def verdict_if(assume: Mapping[str, Outcome]) -> Verdict:
        return verdict_of(
            route,
            [
                (r, assume.get(r.question.key, o) if r.certainty is Certainty.SETTLED else o)
                for r, o in base
            ],
        )

    deciding = []
    for key in unknown:
        for assume in scenarios:
            if_met = verdict_if({**assume, key: Outcome.MET})
            if if_met is not verdict_if({**assume, key: Outcome.NOT_MET}):
                deciding.append(key)
                break
    return deciding


@dataclass(frozen=True, slots=True)
class RouteVerdict:
    route: RouteRules
    verdict: Verdict


def verdicts(book: RuleBook, answers: Mapping[str, Any], on: dt.date) -> tuple[RouteVerdict, ...]:
    """Every route's verdict without the explanations, for the live panel."""
    return tuple(
        RouteVerdict(
            route,
            verdict_of(
                route,
                [
                    (r, requirement_outcome(r, answers, on))
                    for r in route.requirements
                    if r.in_force(on)
                ],
            ),
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
    return RouteResult(
        route=result.route,
        verdict=result.verdict,
        reason=result.reason,
        pathways=result.pathways,
        requirements=result.requirements,
        points=result.points,
        gaps=result.gaps,
        open_questions=_open_questions(result, book, answers, on),
    )


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
