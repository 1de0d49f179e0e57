from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, User

from eligibility.models import (
    KeyFact,
    NextStep,
    OpenQuestion,
    Question,
    Requirement,
    RequirementValue,
    Route,
)


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
    official_url = factory.LazyAttribute(lambda route: f"https://example.org/routes/{route.slug}")


class SourcedFactory(factory.django.DjangoModelFactory):
    class Meta:
        abstract = True
        skip_postgeneration_save = True

    source_title = "Example Gazette"
    source_url = "https://example.org/source"
    source_as_of = dt.date(2026, 11, 28)


class RequirementFactory(factory.django.DjangoModelFactory):
    """A gate with one dated value: `value`, `certainty`, `effective_from`, `effective_until`
    and `note` (or `met_text`, its older name) describe that value."""

    class Meta:
        model = Requirement
        skip_postgeneration_save = True

    route = factory.SubFactory(RouteFactory)
    question = factory.LazyFunction(lambda: Question.objects.get(key="age"))
    operator = "lte"

    @classmethod
    def _create(
        cls, model_class: type[Requirement], *args: object, **kwargs: object
    ) -> Requirement:
        dated = {k: kwargs.pop(k) for k in VALUE_KEYS if k in kwargs}
        if "met_text" in dated:
            dated["note"] = dated.pop("met_text")
        requirement = super()._create(model_class, *args, **kwargs)
        RequirementValue.objects.create(
            requirement=requirement,
            **{
                "value": 55,
                "source_title": "Example Gazette",
                "source_url": "https://example.org/source",
                "source_as_of": dt.date(2026, 11, 28),
                **dated,
            },
        )
        return requirement


VALUE_KEYS = (
    "value",
    "certainty",
    "effective_from",
    "effective_until",
    "note",
    "met_text",
    "source_title",
    "source_url",
    "source_as_of",
)


class RequirementValueFactory(SourcedFactory):
    class Meta:
        model = RequirementValue

    requirement = factory.SubFactory(RequirementFactory)
    value = 55


class KeyFactFactory(SourcedFactory):
    class Meta:
        model = KeyFact

    route = factory.SubFactory(RouteFactory)
    topic = "fees"
    text = "€75"


class NextStepFactory(SourcedFactory):
    class Meta:
        model = NextStep

    route = factory.SubFactory(RouteFactory)
    order = factory.Sequence(lambda n: n + 1)
    text = "Your employer applies for you."
    url = "https://www.example.gov/apply/route"


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
    salary = RequirementFactory(
        route=route,
        question=Question.objects.get(key="offered_salary"),
        operator="gte",
        value=48300,
        order=2,
        effective_from=dt.date(2025, 1, 1),
        effective_until=dt.date(2025, 12, 31),
    )
    RequirementValueFactory(requirement=salary, value=50700, effective_from=dt.date(2026, 1, 1))
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


def gate_form_fields(**fields: object) -> dict[str, object]:
    """What the admin posts for a gate (on the route page's gate inline, or on the gate's own
    page): every pathway, no points, no explanation; `fields` sets the question, operator and
    anything else."""
    return {
        "order": "1",
        "pathway": "",
        "points": "",
        "points_group": "",
        "explanation": "",
        "applies_if": "[]",
        **fields,
    }


def value_form_fields(**fields: object) -> dict[str, object]:
    """What the gate page's value inline posts for a settled value with no dates and a sourced
    title; `fields` sets the value (as typed) and anything else."""
    return {
        "value": "",
        "certainty": "settled",
        "effective_from": "",
        "effective_until": "",
        "note": "",
        "source_title": "Example Gazette: the rule",
        "source_url": "https://example.org/gazette/rule",
        "source_as_of": "2026-11-28",
        **fields,
    }


def posted_value(stored: RequirementValue, /, **changes: object) -> dict[str, object]:
    """The value inline's fields for a stored value, as the gate page shows them, with
    `changes`."""
    shown = stored.value
    if isinstance(shown, list):
        shown = ", ".join(str(v) for v in shown)
    elif isinstance(shown, dict) and "years_before" in shown:
        shown = f"years_before:{shown['years_before']}"
    fields: dict[str, object] = {
        "id": stored.pk,
        "value": "" if shown is None else shown,
        "certainty": stored.certainty,
        "effective_from": stored.effective_from or "",
        "effective_until": stored.effective_until or "",
        "note": stored.note,
        "source_title": stored.source_title,
        "source_url": stored.source_url,
        "source_as_of": stored.source_as_of.isoformat(),
    }
    return value_form_fields(**(fields | changes))


def gate_page_data(
    gate: dict[str, object], values: list[dict[str, object]], *, initial: int = 0
) -> dict[str, str]:
    """What the gate's own admin page posts: the gate's fields (gate_form_fields fills in the
    rest; give route, question and operator) and its value inline, whose first `initial`
    entries are stored values (posted_value), the rest new ones (value_form_fields)."""
    data = {k: str(v) for k, v in gate_form_fields(**gate).items()}
    data |= {"values-TOTAL_FORMS": str(len(values)), "values-INITIAL_FORMS": str(initial)}
    for i, value in enumerate(values):
        data |= {f"values-{i}-{k}": str(v) for k, v in value_form_fields(**value).items()}
    return data


def stored_gate(gate: Requirement) -> tuple[object, ...]:
    """Everything the gate page can change, to show that a refused post changed nothing."""
    gate.refresh_from_db()
    fields = (gate.route_id, gate.pathway, gate.question_id, gate.operator, gate.points)
    values = tuple(
        RequirementValue.objects.filter(requirement=gate)
        .order_by("pk")
        .values_list("value", "certainty", "effective_from", "effective_until", "note")
    )
    return (*fields, gate.points_group, gate.explanation, values)


def adviser_user(username: str = "ada", *, reviewer: bool = False, **fields: object) -> User:
    """A staff user in the Adviser group (and the Reviewer group, who may publish)."""
    user = User.objects.create_user(username, password="a-long-passphrase", is_staff=True, **fields)
    user.groups.add(Group.objects.get(name="Adviser"))
    if reviewer:
        user.groups.add(Group.objects.get(name="Reviewer"))
    return User.objects.get(pk=user.pk)  # without the permission cache of the groups added
