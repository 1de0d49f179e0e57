"""Reading the published rules out of the database into the engine's immutable RuleBook,
in a fixed number of queries whatever the number of routes."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
import uuid
from collections.abc import Mapping
from typing import Final

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from eligibility import answers, engine
from eligibility.models import (
    RULE_MODELS,
    VALUELESS,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
)

logger = logging.getLogger(__name__)


# Errors reading a stored row can raise (rows written by SQL, or older than a check).
_READ_ERRORS: Final = (ArithmeticError, TypeError, ValueError, LookupError, RecursionError)


def _stored(
    question: engine.QuestionRule, operator: engine.Operator, stored: object
) -> tuple[object, bool]:
    """A stored value as the engine compares it, and whether it could be read as the admin
    reads what advisers type. Values are checked when saved, so this fails only for rows
    written by SQL or older than a check."""
    try:
        parsed = answers.parse_rule_value(question, operator, stored)
        return answers.engine_value(question, operator, parsed), True
    except _READ_ERRORS:
        logger.error("Stored value %.100r for %s cannot be read.", stored, question.key)
        return None, False


def _unreadable(question: engine.QuestionRule, value: RequirementValue) -> engine.DatedValue:
    """A value in place of one that cannot be read (or of a gate whose question, operator or
    condition cannot be): an unclear rule, so the gate is unknown and advisers are named."""
    return engine.DatedValue(
        value=None,
        source=value.source(),
        effective_from=value.effective_from,
        effective_until=value.effective_until,
        certainty=engine.Certainty.UNCLEAR,
        note=f"This rule on {question.name.lower()} could not be checked; advisers have been told.",
    )


def _dated_value(
    value: RequirementValue, question: engine.QuestionRule, operator: engine.Operator | None
) -> engine.DatedValue:
    try:
        certainty = engine.Certainty(value.certainty)
    except ValueError:
        logger.error("Dated value %s has no certainty %r.", value.pk, value.certainty)
        return _unreadable(question, value)
    if operator is None:
        return _unreadable(question, value)
    if operator is engine.Operator.ANSWERED or (certainty in VALUELESS and value.value is None):
        compared: object = None
    else:
        compared, readable = _stored(question, operator, value.value)
        if not readable and certainty not in VALUELESS:
            return _unreadable(question, value)
    return engine.DatedValue(
        value=compared,
        source=value.source(),
        effective_from=value.effective_from,
        effective_until=value.effective_until,
        certainty=certainty,
        note=value.note,
    )


# A clause no answer can satisfy or refute: an open question shown when its "show only if"
# cannot be read.
_UNREADABLE = (engine.Clause("", engine.Operator.ANSWERED, None),)


def _condition(
    raw: object, questions: Mapping[str, engine.QuestionRule], where: str
) -> tuple[engine.Clause, ...] | None:
    """A stored condition read as the admin reads one (clauses on known questions, values
    that fit them), or None when it cannot be."""
    try:
        return answers.parse_condition(raw, known_questions=questions)
    except _READ_ERRORS:
        logger.error("The condition of %s cannot be read: %.200r.", where, raw)
        return None


def _question_rule(row: Question) -> engine.QuestionRule | None:
    """The question without its "ask only if" (read once every question is), or None when
    it cannot be read at all (a kind or choices that do not exist): it is then never asked,
    and its gates are unclear rules."""
    try:
        return row.as_rule(with_condition=False)
    except _READ_ERRORS:
        logger.error("Question %s cannot be read; it is not asked.", row.key)
        return None


def question_rules(rows: list[Question]) -> dict[str, engine.QuestionRule]:
    """The questions that can be read, with their "ask only if" read as the engine compares
    it. A condition that cannot be read asks the question: one question too many costs a
    click, where never asking it would leave every route that needs the answer undecided."""
    plain = {row.key: rule for row in rows if (rule := _question_rule(row)) is not None}
    resolved = {}
    for row in rows:
        if row.key in plain:
            ask_if = _condition(row.ask_if, plain, f"question {row.key}") or ()
            resolved[row.key] = dataclasses.replace(plain[row.key], ask_if=ask_if)
    return resolved


def _gate(row: Requirement, questions: Mapping[str, engine.QuestionRule]) -> engine.RequirementRule:
    """One gate as the engine sees it. A gate whose question, operator or "applies only if"
    cannot be read is an unclear rule on every date; so is each value that cannot be."""
    key: str = row.question_key  # type: ignore[attr-defined]
    question = questions.get(key)
    try:
        operator: engine.Operator | None = engine.Operator(row.operator)
    except ValueError:
        logger.error("Gate %s has no operator %r.", row.pk, row.operator)
        operator = None
    applies_if = _applies_if(row, questions)
    if question is None or applies_if is None:
        question = question or engine.QuestionRule(key, key, engine.Kind.CHOICE)
        operator = None
    return engine.RequirementRule(
        id=row.pk,
        question=question,
        operator=operator or engine.Operator.ANSWERED,
        values=tuple(_dated_value(v, question, operator) for v in row.values.all()),
        pathway=row.pathway,
        points=row.points,
        points_group=row.points_group,
        explanation=row.explanation,
        applies_if=applies_if or (),
    )


def _key_facts(route: Route) -> tuple[engine.KeyFactRule, ...]:
    facts = []
    for fact in route.key_facts.all():
        try:
            topic = engine.FactTopic(fact.topic)
        except ValueError:
            logger.error("Key fact %s has no topic %r; it is not shown.", fact.pk, fact.topic)
            continue
        facts.append(engine.KeyFactRule(topic, fact.text, fact.unclear, fact.source()))
    return tuple(facts)


def _open_question(
    row: OpenQuestion, questions: Mapping[str, engine.QuestionRule]
) -> engine.RouteOpenQuestion:
    """An adviser's open question; shown whenever its "show only if" cannot be read."""
    show_if = _condition(row.show_if, questions, f"open question {row.pk}")
    return engine.RouteOpenQuestion(
        row.topic, row.text, row.source(), _UNREADABLE if show_if is None else show_if
    )


def route_rules(route: Route, questions: dict[str, engine.QuestionRule]) -> engine.RouteRules:
    """One route as the engine sees it; expects requirements, key facts, open questions and
    next steps to be prefetched."""
    citizenship = questions.get(engine.CITIZENSHIP)
    extra = {"citizenship_question": citizenship} if citizenship else {}
    return engine.RouteRules(
        slug=route.slug,
        name=route.name,
        country=route.country.code,
        currency=route.currency,
        requirements=tuple(_gate(row, questions) for row in route.requirements.all()),
        official_name=route.official_name,
        summary=route.summary,
        official_url=route.official_url,
        points_needed=route.points_needed,
        points_table_partial=route.points_table_partial,
        points_table_partial_from=route.points_table_partial_from,
        key_facts=_key_facts(route),
        open_questions=tuple(_open_question(o, questions) for o in route.open_questions.all()),
        next_steps=tuple(s.as_step() for s in route.next_steps.all()),
        last_verified_on=route.last_verified_on,
        last_verified_by=route.last_verified_by,
        review_interval_days=route.review_interval_days,
        opens_on=route.opens_on,
        closes_on=route.closes_on,
        **extra,
    )


def _applies_if(
    row: Requirement, questions: Mapping[str, engine.QuestionRule]
) -> tuple[engine.RequirementRule, ...] | None:
    """The gate's "applies only if" clauses as gates of their own; None when it cannot be
    read."""
    if not row.applies_if:
        return ()
    clauses = _condition(row.applies_if, questions, f"gate {row.pk}")
    if clauses is None:
        return None
    return tuple(engine.clause_gate(c, questions[c.question]) for c in clauses)


def load_rulebook(*, slugs: list[str] | None = None) -> engine.RuleBook:
    """The published rules: seven queries, however many routes there are."""
    routes = Route.objects.published().with_rules()
    if slugs is not None:
        routes = routes.filter(slug__in=slugs)
    return _rulebook(list(routes), draft=None)


def rulebook_with_draft(draft: Route) -> engine.RuleBook:
    """The published rules as they would be once `draft` is published: the draft copy stands
    in for its route, under the route's slug (or joins them, for a new route; or takes it
    away, for a draft that withdraws it)."""
    replaced = draft.draft_of_id or draft.pk
    routes = list(Route.objects.published().exclude(pk=replaced).with_rules())
    if not draft.withdraw:
        routes.append(Route.objects.with_rules().select_related("draft_of").get(pk=draft.pk))
    routes.sort(key=lambda r: (r.country.code, r.name))
    return _rulebook(routes, draft=draft)


def _rulebook(routes: list[Route], draft: Route | None) -> engine.RuleBook:
    questions = question_rules(list(Question.objects.all()))
    route_list = tuple(
        dataclasses.replace(route_rules(r, questions), slug=r.published_slug)
        if draft is not None and r.pk == draft.pk
        else route_rules(r, questions)
        for r in routes
    )
    question_list = tuple(sorted(questions.values(), key=lambda q: (q.order, q.key)))
    version = hashlib.sha256(repr((question_list, route_list)).encode()).hexdigest()[:12]
    return engine.RuleBook(questions=question_list, routes=route_list, version=version)


# The published rules change only when an adviser edits them, yet every request needs them.
# So the RuleBook is cached under a "generation" that every rule save or delete replaces. The
# generation and the RuleBook live in the shared cache (Redis in production), so an edit made
# through one app process is seen by all; each process also keeps the RuleBook it last used,
# checked against the generation, so a request costs one cache read and no database query.
GENERATION_KEY = "rules:generation"
# Bounds staleness where no signal fires: a cache that is not shared (no REDIS_URL), and
# changes made without saving models (QuerySet.update(), SQL).
RULEBOOK_SECONDS = 300
_last_used: tuple[str, float, engine.RuleBook] | None = None


def _generation() -> str:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY) or "unshared"
    return str(generation)


def rules_changed(**kwargs: object) -> None:
    """A rule was saved or deleted: the next request loads the rules afresh. Bumped at once
    (so this transaction's own later reads see the edit) and again after commit (so no process
    keeps a RuleBook read between the two)."""
    cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None))


def watch_rule_changes() -> None:
    for model in RULE_MODELS:
        uid = f"rules-changed-{model.__name__}"
        post_save.connect(rules_changed, sender=model, dispatch_uid=uid)
        post_delete.connect(rules_changed, sender=model, dispatch_uid=uid)


def current_rulebook() -> engine.RuleBook:
    """The published rules as load_rulebook() gives them, cached: no query unless an adviser
    changed a rule since this process or any other last loaded them."""
    global _last_used
    generation = _generation()
    now = time.monotonic()
    if (
        _last_used is not None
        and _last_used[0] == generation
        and now - _last_used[1] < RULEBOOK_SECONDS
    ):
        return _last_used[2]
    key = f"rules:book:{generation}"
    book = cache.get(key)
    if not isinstance(book, engine.RuleBook):
        book = load_rulebook()
        cache.set(key, book, timeout=RULEBOOK_SECONDS)
    if _last_used is not None and book.version == _last_used[2].version:
        # The same rules (the version is a hash of them): keep the object this process has
        # used, and with it what the questionnaire compiled and worked out for it.
        book = _last_used[2]
    _last_used = (generation, now, book)
    return book


def forget_cached_rulebook() -> None:
    """Drop this process's copy (tests start each case from a clean slate)."""
    global _last_used
    _last_used = None
