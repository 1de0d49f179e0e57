"""What the results page and the PDF show: one typed object, built from the engine's results.

The page answers the applicant's question, "which country should I pursue, and what do I do
next?", in this order: the best options and why, the questions that would settle uncertain
routes, two to four routes side by side, then every route by verdict. Routes that do not fit
only for want of a job offer in their country form a group of their own, with what the offer
must look like. Every figure comes from the rules (dated values and key facts) with its
source; nothing here is a fact of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from django.conf import settings

from eligibility import wording
from eligibility.engine import (
    Certainty,
    FactTopic,
    KeyFactRule,
    Kind,
    NextStep,
    OpenQuestionKind,
    Operator,
    Outcome,
    QuestionRule,
    RequirementResult,
    RequirementRule,
    RouteResult,
    RouteRules,
    RuleBook,
    Source,
    Verdict,
    evaluate_route,
    evaluate_routes,
)

JOB_OFFER_COUNTRY: Final = "job_offer_country"  # a core question: "none" or a country code
MOST_BEST_OPTIONS: Final = 3
MOST_SETTLING_QUESTIONS: Final = 2  # per route
MOST_COMPARED: Final = 4
RANKING_RULE: Final = (
    "Routes that fit come before routes that may fit; then routes for the job you have been "
    "offered, then other routes in that country; then routes with fewer things still open."
)

OUTCOME_LABELS = {Outcome.MET: "Met", Outcome.NOT_MET: "Not met", Outcome.UNKNOWN: "Unknown"}
NOT_APPLYING = "Does not apply"


# ---------------------------------------------------------------------------------------------
# One route


@dataclass(frozen=True, slots=True)
class RequirementRow:
    """One rule beside the applicant's answer."""

    result: RequirementResult
    rule_text: str
    answer_text: str
    outcome_label: str

    @property
    def outcome(self) -> str:
        return self.result.outcome.value if self.result.check.applies else "not_applying"


@dataclass(frozen=True, slots=True)
class OpenQuestionRow:
    """An open question as the page shows it; `answerable` ones link to their question."""

    text: str
    topic: str
    question_key: str | None
    source: Source | None
    answerable: bool
    decides: bool = True
    question_label: str = ""


@dataclass(frozen=True, slots=True)
class PointsLineRow:
    group: str
    earned: int
    possible: int
    items: tuple[RequirementRow, ...]


@dataclass(frozen=True, slots=True)
class RequirementGroup:
    """The rules every pathway shares (`pathway` blank, when the route has named pathways),
    or one named pathway's own rules with that pathway's outcome."""

    pathway: str
    outcome_label: str
    rows: tuple[RequirementRow, ...]
    shared: bool = False
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class RouteSection:
    """Everything the page shows about one route."""

    result: RouteResult
    country_name: str
    reason: str
    gaps: tuple[str, ...]
    open_questions: tuple[OpenQuestionRow, ...]
    requirements: tuple[RequirementRow, ...]
    requirement_groups: tuple[RequirementGroup, ...]
    points_lines: tuple[PointsLineRow, ...]
    key_facts: tuple[KeyFactRule, ...]
    sources: tuple[Source, ...]
    review_due_on: dt.date | None
    overdue: bool
    chosen: bool = True  # in a country the applicant said they would consider

    @property
    def route(self) -> RouteRules:
        return self.result.route

    @property
    def slug(self) -> str:
        return self.result.route.slug

    @property
    def verdict(self) -> str:
        return "no_visa_needed" if self.result.needs_no_visa else self.result.verdict.value

    @property
    def verdict_label(self) -> str:
        return "No visa needed" if self.result.needs_no_visa else self.result.verdict.label

    @property
    def full_name(self) -> str:
        """ "EU Blue Card, Germany": a route's name is never shown without its country."""
        return f"{self.route.name}, {self.country_name}"

    @property
    def next_steps(self) -> tuple[NextStep, ...]:
        return self.route.next_steps

    @property
    def deciding(self) -> tuple[OpenQuestionRow, ...]:
        """What could still decide this route."""
        return tuple(o for o in self.open_questions if o.decides)

    @property
    def settling(self) -> tuple[OpenQuestionRow, ...]:
        """The applicant's own questions that could settle it, the first few."""
        return tuple(o for o in self.deciding if o.answerable)[:MOST_SETTLING_QUESTIONS]

    @property
    def more_settling(self) -> int:
        return max(0, sum(1 for o in self.deciding if o.answerable) - MOST_SETTLING_QUESTIONS)

    @property
    def uncertain_whatever_answered(self) -> bool:
        """A may-fit route that an unclear rule, an unpublished figure or chance keeps open."""
        return self.result.verdict is Verdict.MAY_FIT and any(
            not o.answerable for o in self.deciding
        )

    @property
    def to_know(self) -> tuple[OpenQuestionRow, ...]:
        """The adviser's other things to know about it."""
        return tuple(o for o in self.open_questions if not o.decides)


def display_value(question: QuestionRule, value: Any, currency: str = "") -> str:
    """An answer as the applicant would say it, with country names, and numbers written out
    in full ("60,000", never the "6E+4" a normalised Decimal gives)."""
    return wording.format_value(question, value, currency)


def display_answers(book: RuleBook, answers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(question, answer) pairs in questionnaire order, with country names."""
    return [(q.label, display_value(q, answers[q.key])) for q in book.questions if q.key in answers]


def requirement_row(result: RequirementResult, currency: str) -> RequirementRow:
    return RequirementRow(
        result=result,
        rule_text=wording.requirement_text(result, currency),
        answer_text=wording.answer_text(result, currency),
        outcome_label=OUTCOME_LABELS[result.outcome] if result.check.applies else NOT_APPLYING,
    )


def requirement_groups(
    rows: tuple[RequirementRow, ...], result: RouteResult
) -> tuple[RequirementGroup, ...]:
    """Rows by pathway: the shared rules first, then each pathway with its outcome."""
    named = [p for p in result.pathways if p.name]
    if not named:
        return (RequirementGroup("", "", rows),) if rows else ()
    groups = []
    shared = tuple(r for r in rows if not r.result.rule.pathway)
    if shared:
        groups.append(RequirementGroup("", "", shared, shared=True))
    for pathway in named:
        own = tuple(r for r in rows if r.result.rule.pathway == pathway.name)
        groups.append(
            RequirementGroup(
                pathway.name,
                OUTCOME_LABELS[pathway.outcome],
                own,
                outcome=pathway.outcome.value,
            )
        )
    return tuple(groups)


def _sources(route: RouteRules) -> tuple[Source, ...]:
    found: dict[tuple[str, str, dt.date], Source] = {}
    sourced: list[Source] = [s for rule in route.requirements for s in rule.sources]
    sourced += [f.source for f in route.key_facts]
    sourced += [q.source for q in route.open_questions]
    sourced += [s.source for s in route.next_steps]
    for source in sourced:
        found.setdefault((source.title, source.url, source.as_of), source)
    return tuple(sorted(found.values(), key=lambda s: (s.title, s.as_of)))


def route_section(
    result: RouteResult, on: dt.date, book: RuleBook, *, chosen: bool = True
) -> RouteSection:
    route = result.route
    currency = route.currency
    # The citizenship gate is shown only when it decides: it is in every route.
    citizen = result.requirements[0]
    gates = result.requirements[1:] if citizen.outcome is Outcome.MET else result.requirements
    rows = tuple(requirement_row(r, currency) for r in gates)
    lines: tuple[PointsLineRow, ...] = ()
    if result.points is not None:
        lines = tuple(
            PointsLineRow(
                line.group,
                line.earned,
                line.possible,
                tuple(requirement_row(i, currency) for i in line.items),
            )
            for line in result.points.lines
        )
    questions = book.questions_by_key
    return RouteSection(
        result=result,
        country_name=wording.country_name(route.country),
        reason=wording.reason(result),
        gaps=tuple(wording.gap_lines(result)),
        open_questions=tuple(
            OpenQuestionRow(
                text=wording.open_question_text(o, book, currency),
                topic=o.topic,
                question_key=o.question_key,
                source=o.source,
                answerable=o.kind in (OpenQuestionKind.UNANSWERED, OpenQuestionKind.DONT_KNOW),
                decides=o.decides,
                question_label=(
                    questions[o.question_key].label if o.question_key in questions else ""
                ),
            )
            for o in result.open_questions
        ),
        requirements=rows,
        requirement_groups=requirement_groups(rows, result),
        points_lines=lines,
        key_facts=route.key_facts,
        sources=_sources(route),
        review_due_on=route.review_due_on,
        overdue=route.is_overdue(on),
        chosen=chosen,
    )


# ---------------------------------------------------------------------------------------------
# Open to you with a job offer


def offer_questions(book: RuleBook) -> frozenset[str]:
    """The job offer's country and every question asked only because of an offer (directly,
    or through another such question): answers about one offer say nothing of another."""
    keys = {JOB_OFFER_COUNTRY}
    grew = True
    while grew:
        before = len(keys)
        keys |= {q.key for q in book.questions if any(c.question in keys for c in q.ask_if)}
        grew = len(keys) > before
    return frozenset(keys)


def verdict_with_offer(
    route: RouteRules, answers: Mapping[str, Any], on: dt.date, offer_keys: frozenset[str]
) -> Verdict:
    """The route's verdict if the applicant had a job offer in its country and had not yet
    said anything about that offer."""
    assumed = {k: v for k, v in answers.items() if k not in offer_keys}
    assumed[JOB_OFFER_COUNTRY] = route.country
    return evaluate_route(route, assumed, on).verdict


@dataclass(frozen=True, slots=True)
class Cell:
    """What the rules say on one aspect of a route: a key fact (with its source) or lines
    worded from dated values. `published` is False where the rules say nothing."""

    lines: tuple[str, ...]
    source: Source | None = None
    unclear: bool = False
    published: bool = True

    @classmethod
    def of_fact(cls, fact: KeyFactRule | None) -> Cell:
        if fact is None:
            return cls(("Not published",), published=False)
        return cls((fact.text,), fact.source, fact.unclear)


def _is_floor(rule: RequirementRule, offer_keys: frozenset[str]) -> bool:
    question = rule.question
    return (
        question.kind is Kind.MONEY
        and question.key in offer_keys
        and rule.operator in (Operator.GTE, Operator.GT)
        and not rule.is_scoring
    )


def salary_floor(route: RouteRules, on: dt.date, offer_keys: frozenset[str]) -> Cell:
    """The pay the job must offer, as the dated values in force say it: one line per rule,
    with the pathways it belongs to ("Standard; Shortage occupation: at least ...")."""
    pathways: dict[str, list[str]] = {}
    sources: list[Source] = []
    unclear = False
    for rule in route.requirements:
        value = rule.value_on(on)
        if not _is_floor(rule, offer_keys):
            continue
        if value is not None and value.certainty is Certainty.NOT_REQUIRED:
            continue
        # No value on the date is a figure not yet published, never "no salary floor".
        text = wording.rule_text(rule, value, route.currency, on)
        unclear = unclear or value is None or value.certainty is Certainty.UNCLEAR
        if text not in pathways:
            pathways[text] = []
            if value is not None:
                sources.append(value.source)
        if rule.pathway and rule.pathway not in pathways[text]:
            pathways[text].append(rule.pathway)
    if not pathways:
        return Cell(("No salary floor in the published rules",), published=False)
    lines = tuple(
        f"{'; '.join(names)}: {wording.lower_first(text)}" if names else text
        for text, names in pathways.items()
    )
    return Cell(lines, sources[0] if sources else None, unclear)


@dataclass(frozen=True, slots=True)
class OfferRoute:
    """A route that does not fit only because the applicant has no job offer in its country,
    with what such an offer must look like."""

    section: RouteSection
    verdict_with_offer: Verdict
    salary_floor: Cell
    employer: Cell
    costs: Cell
    chance: Cell


# ---------------------------------------------------------------------------------------------
# Side by side

ASPECTS: Final[tuple[tuple[str, FactTopic | None], ...]] = (
    ("Employer needed", FactTopic.JOB_OFFER),
    ("Salary floor", None),
    ("Chance: lottery, cap or quota", FactTopic.CAP),
    ("Costs", FactTopic.FEES),
    ("Processing time", FactTopic.PROCESSING_TIME),
    ("Path to permanent residence", FactTopic.PR_PATH),
    ("Family", FactTopic.FAMILY),
    ("Right to work", FactTopic.WORK_RIGHTS),
)


@dataclass(frozen=True, slots=True)
class ComparedRoute:
    section: RouteSection
    verdict_label: str
    cells: tuple[Cell, ...]  # in ASPECTS order

    @property
    def items(self) -> tuple[tuple[str, Cell], ...]:
        return tuple(zip((label for label, _ in ASPECTS), self.cells, strict=True))


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    aspect: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Comparison:
    routes: tuple[ComparedRoute, ...]
    choices: tuple[RouteSection, ...]  # every route the applicant may pick
    problem: str = ""  # why the routes asked for are not the ones shown

    @property
    def chosen(self) -> frozenset[str]:
        return frozenset(r.section.slug for r in self.routes)

    @property
    def rows(self) -> tuple[ComparisonRow, ...]:
        return tuple(
            ComparisonRow(label, tuple(r.cells[i] for r in self.routes))
            for i, (label, _) in enumerate(ASPECTS)
        )


def compared_route(
    section: RouteSection, on: dt.date, offer_keys: frozenset[str], with_offer: bool
) -> ComparedRoute:
    route = section.route
    cells = tuple(
        salary_floor(route, on, offer_keys)
        if topic is None
        else Cell.of_fact(route.key_fact(topic))
        for _, topic in ASPECTS
    )
    label = section.verdict_label
    if with_offer:
        label = "Does not fit without a job offer there"
    return ComparedRoute(section, label, cells)


# ---------------------------------------------------------------------------------------------
# Settling the uncertain ones


@dataclass(frozen=True, slots=True)
class SettlingQuestion:
    key: str
    label: str
    routes: tuple[str, ...]  # full names of the routes it could settle


@dataclass(frozen=True, slots=True)
class Settling:
    questions: tuple[SettlingQuestion, ...]
    routes: int  # how many may-fit routes these answers could settle
    stay_uncertain: tuple[RouteSection, ...]  # open whatever the applicant answers


def settling(sections: Iterable[RouteSection], book: RuleBook) -> Settling:
    """The first questions that could settle each may-fit route (`sections`, best first), and
    the routes that stay uncertain whatever the applicant answers."""
    questions: dict[str, list[str]] = {}
    routes = 0
    uncertain = []
    for section in sections:
        if section.result.verdict is not Verdict.MAY_FIT:
            continue
        if section.uncertain_whatever_answered:
            uncertain.append(section)
        keys = [o.question_key for o in section.settling if o.question_key]
        if keys and not section.uncertain_whatever_answered:
            routes += 1
        for key in keys:
            questions.setdefault(key, []).append(section.full_name)
    by_key = book.questions_by_key
    return Settling(
        # In the order of the routes they settle, best first: `sections` come ranked.
        questions=tuple(
            SettlingQuestion(key, by_key[key].label, tuple(names))
            for key, names in questions.items()
            if key in by_key
        ),
        routes=routes,
        stay_uncertain=tuple(uncertain),
    )


# ---------------------------------------------------------------------------------------------
# The whole page


@dataclass(frozen=True, slots=True)
class BestOption:
    section: RouteSection
    why: str


@dataclass(frozen=True, slots=True)
class VerdictGroup:
    key: str
    label: str
    intro: str
    sections: tuple[RouteSection, ...]

    @property
    def shows_next_steps(self) -> bool:
        """Steps are for routes the applicant can pursue: those that fit or may fit, and
        those a job offer would open."""
        return self.key in ("fits", "may_fit", "with_offer")


@dataclass(frozen=True, slots=True)
class VerdictChange:
    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Results:
    """The results page and the PDF read this and nothing else."""

    book: RuleBook
    evaluated_on: dt.date
    route_results: tuple[RouteResult, ...]
    sections: tuple[RouteSection, ...]
    best: tuple[BestOption, ...]
    ranking_changes: tuple[str, ...]
    groups: tuple[VerdictGroup, ...]
    with_offer: tuple[OfferRoute, ...]
    settling: Settling
    comparison: Comparison
    answer_lines: tuple[tuple[str, str], ...]
    key_answers: tuple[tuple[str, str], ...]
    offer_country: str = ""
    ranking_rule: str = RANKING_RULE
    changes: tuple[VerdictChange, ...] = field(default=())

    @property
    def rules_version(self) -> str:
        return self.book.version

    @property
    def verdicts(self) -> dict[str, str]:
        return {r.route.slug: r.verdict.value for r in self.route_results}

    @property
    def not_fitting(self) -> tuple[RouteSection, ...]:
        return next((g.sections for g in self.groups if g.key == "does_not_fit"), ())

    @property
    def citizen_of(self) -> tuple[str, ...]:
        """The destination countries the applicant is a citizen of: no visa needed there."""
        return tuple(dict.fromkeys(s.country_name for s in self.sections if s.result.needs_no_visa))


def uses_offer(route: RouteRules) -> bool:
    """Whether the route is for a job offer (one of its gates asks where the offer is)."""
    return any(rule.question.key == JOB_OFFER_COUNTRY for rule in route.requirements)


def _offer_match(section: RouteSection, offer_country: str) -> int:
    """0: a route for the applicant's job offer; 1: another route in that country; 2: other."""
    if not offer_country or section.route.country != offer_country:
        return 2
    return 0 if uses_offer(section.route) else 1


def _rank(section: RouteSection, offer_country: str) -> tuple[int, int, int]:
    return (
        0 if section.result.verdict is Verdict.FITS else 1,
        _offer_match(section, offer_country),
        len(section.deciding),
    )


def _why(section: RouteSection, offer_country: str) -> str:
    match _offer_match(section, offer_country):
        case 0:
            return f"{section.reason} It is a route for the job you have been offered."
        case 1:
            return f"{section.reason} It is in the country of your job offer."
    return section.reason


def _ranking_changes(
    best: Sequence[BestOption], with_offer: Sequence[OfferRoute], settle: Settling
) -> tuple[str, ...]:
    lines = []
    if settle.questions:
        lines.append(
            f"Your answers to the {_count(len(settle.questions), 'open question')} below could "
            "move routes that may fit up, or out."
        )
    lines.extend(
        f"A job offer in {wording.country_in_sentence(o.section.route.country)} would make "
        f"the {o.section.route.name} "
        f"{'fit' if o.verdict_with_offer is Verdict.FITS else 'a route that may fit'}."
        for o in with_offer[:2]
    )
    unclear = [b.section.full_name for b in best if b.section.uncertain_whatever_answered]
    if unclear:
        lines.append(
            f"Rules that are unclear or unpublished keep {wording.joined(unclear, 'and')} "
            "uncertain; when they are published, the order may change."
        )
    return tuple(lines)


def _offer_reason(section: RouteSection, verdict: Verdict) -> str:
    where = wording.country_in_sentence(section.route.country)
    would = "would fit" if verdict is Verdict.FITS else "may fit"
    return f"You have no job offer in {where}. With one, this route {would} on your other answers."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _comparison(
    candidates: Sequence[RouteSection],
    in_play: Sequence[RouteSection],
    offer_slugs: frozenset[str],
    wanted: Sequence[str],
    on: dt.date,
    offer_keys: frozenset[str],
) -> Comparison:
    by_slug = {s.slug: s for s in candidates}
    picked = list(dict.fromkeys(slug for slug in wanted if slug in by_slug))
    problem = ""
    if wanted and len(picked) < 2:
        problem = "Choose at least two routes to compare. These are the routes we suggest."
        picked = []
    elif len(picked) > MOST_COMPARED:
        problem = (
            f"You can compare up to {MOST_COMPARED} routes; these are the first {MOST_COMPARED}."
        )
        picked = picked[:MOST_COMPARED]
    if not picked:
        playing = {s.slug for s in in_play}
        default = [slug for slug in settings.DEFAULT_COMPARISON if slug in playing]
        if len(default) < len(settings.DEFAULT_COMPARISON):
            default = [s.slug for s in in_play][:2]
        picked = default
    return Comparison(
        routes=tuple(
            compared_route(by_slug[slug], on, offer_keys, slug in offer_slugs) for slug in picked
        ),
        choices=tuple(candidates),
        problem=problem,
    )


KEY_QUESTIONS: Final = (
    "citizenship",
    "current_country",
    "age",
    "education_level",
    "stem_field",
    "graduation_year",
    JOB_OFFER_COUNTRY,
    "offered_salary",
    "english_level",
)


def build_results(
    book: RuleBook,
    answers: Mapping[str, Any],
    on: dt.date,
    *,
    chosen_countries: frozenset[str] | None = None,
    compare: Sequence[str] = (),
) -> Results:
    """The results for these answers on `on`. `chosen_countries` (None: all) are the countries
    the applicant would consider; `compare` the routes they picked to see side by side."""
    route_results = evaluate_routes(book, answers, on)
    offer_keys = offer_questions(book)
    raw_offer = answers.get(JOB_OFFER_COUNTRY)
    offer_country = raw_offer if isinstance(raw_offer, str) and raw_offer != "none" else ""
    currency = next((r.currency for r in book.routes if r.country == offer_country), "")
    sections = tuple(
        route_section(
            r, on, book, chosen=chosen_countries is None or r.route.country in chosen_countries
        )
        for r in route_results
    )
    chosen = [s for s in sections if s.chosen]
    open_routes = [s for s in chosen if not s.result.needs_no_visa and s.result.closure is None]
    ranked = sorted(
        (s for s in open_routes if s.result.verdict is not Verdict.DOES_NOT_FIT),
        key=lambda s: _rank(s, offer_country),
    )
    with_offer = tuple(
        OfferRoute(
            section=dataclasses.replace(s, reason=_offer_reason(s, verdict)),
            verdict_with_offer=verdict,
            salary_floor=salary_floor(s.route, on, offer_keys),
            employer=Cell.of_fact(s.route.key_fact(FactTopic.JOB_OFFER)),
            costs=Cell.of_fact(s.route.key_fact(FactTopic.FEES)),
            chance=Cell.of_fact(s.route.key_fact(FactTopic.CAP)),
        )
        for s in open_routes
        if s.result.verdict is Verdict.DOES_NOT_FIT
        and s.route.country != offer_country
        and (verdict := verdict_with_offer(s.route, answers, on, offer_keys))
        is not Verdict.DOES_NOT_FIT
    )
    offer_slugs = frozenset(o.section.slug for o in with_offer)
    best = tuple(BestOption(s, _why(s, offer_country)) for s in ranked[:MOST_BEST_OPTIONS])
    settle = settling(ranked, book)

    def of(verdict: Verdict) -> tuple[RouteSection, ...]:
        return tuple(
            s
            for s in sorted(chosen, key=lambda s: _rank(s, offer_country))
            if s.result.verdict is verdict
            and not s.result.needs_no_visa
            and s.slug not in offer_slugs
        )

    groups = (
        VerdictGroup("fits", Verdict.FITS.label, "", of(Verdict.FITS)),
        VerdictGroup("may_fit", Verdict.MAY_FIT.label, "", of(Verdict.MAY_FIT)),
        VerdictGroup(
            "with_offer",
            "Open to you with a job offer",
            "These routes do not fit now only because you have no job offer in their country. "
            "Here is what an offer must look like.",
            tuple(o.section for o in with_offer),
        ),
        VerdictGroup("does_not_fit", Verdict.DOES_NOT_FIT.label, "", of(Verdict.DOES_NOT_FIT)),
        VerdictGroup(
            "no_visa_needed",
            "No visa needed",
            "You are a citizen of these countries, so you need no visa to live and work there.",
            tuple(s for s in chosen if s.result.needs_no_visa),
        ),
        VerdictGroup(
            "not_chosen",
            "In countries you did not choose",
            "You said you would not consider these countries. Change that answer to see them "
            "ranked with the others.",
            tuple(s for s in sections if not s.chosen),
        ),
    )
    in_play = [*ranked, *(o.section for o in with_offer)]
    key_questions = [book.questions_by_key[k] for k in KEY_QUESTIONS if k in book.questions_by_key]
    return Results(
        book=book,
        evaluated_on=on,
        route_results=route_results,
        sections=sections,
        best=best,
        ranking_changes=_ranking_changes(best, with_offer, settle),
        groups=groups,
        with_offer=with_offer,
        settling=settle,
        comparison=_comparison(
            [s for s in chosen if not s.result.needs_no_visa],
            in_play,
            offer_slugs,
            compare,
            on,
            offer_keys,
        ),
        answer_lines=tuple(display_answers(book, answers)),
        key_answers=tuple(
            (q.label, display_value(q, answers[q.key], currency if q.kind is Kind.MONEY else ""))
            for q in key_questions
            if q.key in answers
        ),
        offer_country=offer_country,
    )


def verdict_changes(
    before: Mapping[str, str], results: Iterable[RouteResult]
) -> tuple[VerdictChange, ...]:
    """Routes whose verdict differs from a stored evaluation ({slug: verdict})."""
    labels = {v.value: v.label for v in Verdict}
    results = tuple(results)
    changes = []
    for r in results:
        old = before.get(r.route.slug)
        if old is not None and old != r.verdict.value:
            changes.append(VerdictChange(r.route.name, labels.get(old, old), r.verdict.label))
    gone = set(before) - {r.route.slug for r in results}
    changes.extend(
        VerdictChange(slug, labels.get(before[slug], ""), "No longer listed")
        for slug in sorted(gone)
    )
    return tuple(changes)
