"""Reading the published rules out of the database into the engine's immutable RuleBook,
in a fixed number of queries whatever the number of routes."""

from __future__ import annotations

import dataclasses
import hashlib

from django.db.models import Prefetch

from eligibility import answers, engine
from eligibility.models import KeyFact, OpenQuestion, Question, Requirement, Route


def _source(row: KeyFact | Requirement | OpenQuestion) -> engine.Source:
    return engine.Source(row.source_title, row.source_url, row.source_as_of)


def question_rules(rows: list[Question]) -> dict[str, engine.QuestionRule]:
    """Questions with their "ask only if" values read as the engine compares them."""
    plain = {q.key: q.as_rule() for q in rows}
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
    return answers.engine_value(question, clause.operator, clause.value)


def route_rules(route: Route, questions: dict[str, engine.QuestionRule]) -> engine.RouteRules:
    """One route as the engine sees it; expects requirements, key facts and open questions
    to be prefetched."""
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
                value=answers.engine_value(question, operator, row.value),
                source=_source(row),
                pathway=row.pathway,
                certainty=engine.Certainty(row.certainty),
                points=row.points,
                points_group=row.points_group,
                met_text=row.met_text,
                not_met_text=row.not_met_text,
                effective_from=row.effective_from,
                effective_until=row.effective_until,
            )
        )
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
        key_facts=tuple(
            engine.KeyFactRule(engine.FactTopic(f.topic), f.text, f.unclear, _source(f))
            for f in route.key_facts.all()
        ),
        open_questions=tuple(
            engine.RouteOpenQuestion(
                o.topic,
                o.text,
                _source(o),
                tuple(
                    engine.Clause(c.question, c.operator, _clause_value(questions, c))
                    for c in answers.parse_condition(o.show_if, known_questions=None)
                ),
            )
            for o in route.open_questions.all()
        ),
        last_verified_on=route.last_verified_on,
        last_verified_by=route.last_verified_by,
        review_interval_days=route.review_interval_days,
    )


def load_rulebook(*, slugs: list[str] | None = None) -> engine.RuleBook:
    """The published rules: five queries, however many routes there are."""
    questions = question_rules(list(Question.objects.all()))
    routes = Route.objects.published().prefetch_related(
        Prefetch(
            "requirements",
            queryset=Requirement.objects.annotate_question_key().order_by("order", "id"),
        ),
        Prefetch("key_facts", queryset=KeyFact.objects.order_by("topic")),
        Prefetch("open_questions", queryset=OpenQuestion.objects.order_by("order", "id")),
    )
    if slugs is not None:
        routes = routes.filter(slug__in=slugs)
    route_list = tuple(route_rules(r, questions) for r in routes)
    question_list = tuple(sorted(questions.values(), key=lambda q: (q.order, q.key)))
    version = hashlib.sha256(repr((question_list, route_list)).encode()).hexdigest()[:12]
    return engine.RuleBook(questions=question_list, routes=route_list, version=version)
