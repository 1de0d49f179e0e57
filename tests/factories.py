from __future__ import annotations

import datetime as dt

import factory

from eligibility.models import KeyFact, OpenQuestion, Question, Requirement, Route


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question
        django_get_or_create = ("key",)
        skip_postgeneration_save = True

    key = factory.Sequence(lambda n: f"extra_{n}")
    label = factory.LazyAttribute(lambda q: f"Question {q.key}?")
    kind = "integer"
    section = "Extra"
    order = factory.Sequence(lambda n: 1000 + n)


class RouteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Route
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"route-{n}")
    country = "DE"
    name = factory.Sequence(lambda n: f"Route {n}")
    status = Route.Status.PUBLISHED
    currency = "EUR"
    last_verified_on = dt.date(2026, 11, 28)
    last_verified_by = "Fact sheet"


class SourcedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    source_title = "Fact sheet"
    source_url = "https://example.org/source"
    source_as_of = dt.date(2026, 11, 28)


class RequirementFactory(SourcedFactory):
    class Meta:
        model = Requirement

    route = factory.SubFactory(RouteFactory)
    question = factory.LazyFunction(lambda: Question.objects.get(key="age"))
    operator = "lte"
    value = 55


class KeyFactFactory(SourcedFactory):
    class Meta:
        model = KeyFact

    route = factory.SubFactory(RouteFactory)
    topic = "fees"
    text = "€75"


class OpenQuestionFactory(SourcedFactory):
    class Meta:
        model = OpenQuestion

    route = factory.SubFactory(RouteFactory)
    topic = "Timing"
    text = "Is the rule still in force?"


def blue_card(**route_fields: object) -> Route:
    """A small Blue Card: a job offer in Germany, and the 2025 or 2026 salary threshold."""
    route = RouteFactory(slug="de-blue-card", name="EU Blue Card", **route_fields)
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="job_offer_country"),
        operator="eq",
        value="DE",
        order=1,
    )
    salary = Question.objects.get(key="offered_salary")
    RequirementFactory(
        route=route,
        question=salary,
        operator="gte",
        value=48300,
        order=2,
        effective_from=dt.date(2025, 1, 1),
        effective_until=dt.date(2025, 12, 31),
    )
    RequirementFactory(
        route=route,
        question=salary,
        operator="gte",
        value=50700,
        order=3,
        effective_from=dt.date(2026, 1, 1),
    )
    KeyFactFactory(route=route, topic="fees", text="€75 visa, €100 permit")
    OpenQuestionFactory(route=route, topic="Settlement", text="27 or 21 months?")
    return route


def h1b() -> Route:
    """A small H-1B: a bachelor's degree or higher and a US job offer."""
    route = RouteFactory(slug="us-h1b", name="H-1B", country="US", currency="USD")
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="education_level"),
        operator="gte",
        value="bachelor",
    )
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="job_offer_country"),
        operator="eq",
        value="US",
    )
    KeyFactFactory(route=route, topic="fees", text="$215 registration")
    KeyFactFactory(route=route, topic="processing_time", text="Lottery in March")
    return route


def unclear_k_visa(
    met_text: str = "Young science and technology talent (no published age limit)",
) -> Route:
    """A K visa whose only rule is an unpublished age limit, so it can only ever "may fit"."""
    route = RouteFactory(slug="cn-k-visa", name="K visa", country="CN", currency="CNY")
    RequirementFactory(
        route=route,
        question=Question.objects.get(key="age"),
        operator="lte",
        value=45,
        certainty="unclear",
        met_text=met_text,
    )
    return route


def joint_route(**fields: object) -> Route:
    """(STEM and no dependants) or funds: no single answer settles it, yet all three can."""
    route = RouteFactory(slug="joint", **fields)
    for pathway, key, value in [
        ("one", "stem_field", True),
        ("one", "has_dependants", False),
        ("two", "proof_of_funds", True),
    ]:
        RequirementFactory(
            route=route,
            pathway=pathway,
            question=Question.objects.get(key=key),
            operator="eq",
            value=value,
        )
    return route


def requirement_form_fields(**fields: object) -> dict[str, object]:
    """What the admin's requirement form posts for a settled rule with no points, no dates
    and a sourced title; `fields` sets the question, operator, value and anything else."""
    return {
        "pathway": "",
        "order": "1",
        "certainty": "settled",
        "points": "",
        "points_group": "",
        "met_text": "",
        "not_met_text": "",
        "effective_from": "",
        "effective_until": "",
        "source_title": "Fact sheet",
        "source_url": "",
        "source_as_of": "2026-11-28",
        **fields,
    }
