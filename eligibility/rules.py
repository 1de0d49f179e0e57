"""Reading the published rules out of the database into the engine's immutable RuleBook,
in a fixed number of queries whatever the number of routes."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import time
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from eligibility import answers, engine
from eligibility.models import (
    RULE_MODELS,
    Question,
    Requirement,
    Route,
)

logger = logging.getLogger(__name__)


def _stored(question: engine.QuestionRule, operator: engine.Operator, stored: object) -> object:
    """A stored value as the engine compares it. Values are parsed when saved, so this cannot
    fail for data entered through the admin or the catalogue; if it does (SQL, an old row), the
    raw value goes through and the engine makes that gate unknown."""
    try:
        return answers.engine_value(question, operator, stored)
    except (ArithmeticError, TypeError, ValueError):
        logger.error(
            "Stored value %r for %s cannot be read; its gate will be unknown.", stored, question.key
        )
        return stored


# A clause no answer can satisfy or refute: a condition that cannot be read is unknown.
_UNREADABLE = (engine.Clause("", engine.Operator.ANSWERED, None),)


def _conditions(raw: object, where: str) -> tuple[engine.Clause, ...]:
    try:
        return answers.parse_condition(raw, known_questions=None)
    except ValueError:
        logger.error("The condition of %s cannot be read: %r; it counts as unknown.", where, raw)
        return _UNREADABLE


def _question_rule(row: Question) -> engine.QuestionRule:
    try:
        return row.as_rule()
    except ValueError:
        _conditions(row.ask_if, f"question {row.key}")  # logs what cannot be read
        return dataclasses.replace(row.as_rule(with_condition=False), ask_if=_UNREADABLE)


def question_rules(rows: list[Question]) -> dict[str, engine.QuestionRule]:
    """Questions with their "ask only if" values read as the engine compares them."""
    plain = {q.key: _question_rule(q) for q in rows}
    resolved = {}
    for key, rule in plain.items():
        clauses = tuple(
            engine.Clause(c.question, c.operator, _clause_value(plain, c)) for c in rule.ask_if
        )
        resolved[key] = dataclasses.replace(rule, ask_if=clauses)
    return resolved


def _clause_value(questions: dict[str, engine.QuestionRule], clause: engine.Clause) -> object:
    question = questions.get(clause.question)
    if question is None:
        return clause.value
    return _stored(question, clause.operator, clause.value)


def route_rules(route: Route, questions: dict[str, engine.QuestionRule]) -> engine.RouteRules:
    """One route as the engine sees it; expects requirements, key facts, open questions and
    next steps to be prefetched."""
    by_id = {q.key: q for q in questions.values()}
    requirements = []
    for row in route.requirements.all():
        question = by_id[row.question_key]  # type: ignore[attr-defined]
        operator = engine.Operator(row.operator)
        requirements.append(
            engine.RequirementRule(
                id=row.pk,
                question=question,
                operator=operator,
                values=tuple(
                    engine.DatedValue(
                        value=_stored(question, operator, v.value),
                        source=v.source(),
                        effective_from=v.effective_from,
                        effective_until=v.effective_until,
                        certainty=engine.Certainty(v.certainty),
                        note=v.note,
                    )
                    for v in row.values.all()
                ),
                pathway=row.pathway,
                points=row.points,
                points_group=row.points_group,
                explanation=row.explanation,
                applies_if=_applies_if(row, questions),
            )
        )
    citizenship = questions.get(engine.CITIZENSHIP)
    extra = {"citizenship_question": citizenship} if citizenship else {}
    return engine.RouteRules(
        slug=route.slug,
        name=route.name,
        country=route.country.code,
        currency=route.currency,
        requirements=tuple(requirements),
        official_name=route.official_name,
        summary=route.summary,
        official_url=route.official_url,
        points_needed=route.points_needed,
        points_table_partial=route.points_table_partial,
        points_table_partial_from=route.points_table_partial_from,
        key_facts=tuple(
            engine.KeyFactRule(engine.FactTopic(f.topic), f.text, f.unclear, f.source())
            for f in route.key_facts.all()
        ),
        open_questions=tuple(
            engine.RouteOpenQuestion(
                o.topic,
                o.text,
                o.source(),
                tuple(
                    engine.Clause(c.question, c.operator, _clause_value(questions, c))
                    for c in _conditions(o.show_if, f"open question {o.pk}")
                ),
            )
            for o in route.open_questions.all()
        ),
        next_steps=tuple(s.as_step() for s in route.next_steps.all()),
        last_verified_on=route.last_verified_on,
        last_verified_by=route.last_verified_by,
        review_interval_days=route.review_interval_days,
        opens_on=route.opens_on,
        closes_on=route.closes_on,
        **extra,
    )


def _applies_if(
    row: Requirement, questions: dict[str, engine.QuestionRule]
) -> tuple[engine.RequirementRule, ...]:
    """The gate's "applies only if" clauses as gates of their own, values read as stored."""
    if not row.applies_if:
        return ()
    return tuple(
        engine.clause_gate(
            engine.Clause(c.question, c.operator, _clause_value(questions, c)),
            questions.get(c.question),
        )
        for c in _conditions(row.applies_if, f"gate {row.pk}")
    )


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
