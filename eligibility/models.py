"""The rules advisers curate (questions, routes, requirements, key facts, open questions)
and the applicants' assessments. The engine never sees these classes: rules.py turns them
into an immutable snapshot first."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from eligibility import answers, engine


class Sourced(models.Model):
    """Every rule, key fact and open question says where it comes from and as of when."""

    source_title = models.CharField(max_length=300)
    source_url = models.URLField(max_length=500, blank=True)
    source_as_of = models.DateField("source as of")

    class Meta:
        abstract = True


class Question(models.Model):
    """A factor the applicant is asked about. `key` is a stable interface: the CLI, the
    catalogue and the rules refer to questions by it."""

    Kind = answers.Kind

    key = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=200)
    short_label = models.CharField(
        max_length=60,
        blank=True,
        help_text='For rules and messages, e.g. "age" for "How old are you?".',
    )
    help_text = models.TextField(blank=True)
    kind = models.CharField(max_length=10, choices=[(k.value, k.label) for k in answers.Kind])
    choices = models.JSONField(
        default=list,
        blank=True,
        help_text='Ordered [value, label] pairs, e.g. [["bachelor", "Bachelor\'s degree"]]. '
        "For country questions, extra values allowed besides ISO codes (e.g. none).",
    )
    min_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    max_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    section = models.CharField(max_length=60)
    order = models.PositiveIntegerField(default=0)
    ask_if = models.JSONField(
        "ask only if",
        default=list,
        blank=True,
        help_text='Clauses that must all hold, e.g. [{"question": "job_offer_country", '
        '"operator": "eq", "value": "DE"}]. Empty: always asked.',
    )

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        try:
            self.as_rule()
        except ValueError as exc:
            raise ValidationError({"choices": str(exc)}) from exc
        if self.kind in (answers.Kind.CHOICE, answers.Kind.ORDINAL) and not self.choices:
            raise ValidationError({"choices": "A choice question needs at least one choice."})
        if self.ask_if:
            try:
                answers.parse_condition(self.ask_if, known_questions=None)
            except ValueError as exc:
                raise ValidationError({"ask_if": str(exc)}) from exc

    def as_rule(self) -> engine.QuestionRule:
        return answers.question_rule(
            key=self.key,
            label=self.label,
            kind=self.kind,
            choices=self.choices,
            min_value=self.min_value,
            max_value=self.max_value,
            ask_if=self.ask_if,
            help_text=self.help_text,
            section=self.section,
            order=self.order,
            short_label=self.short_label,
        )


class RouteQuerySet(models.QuerySet["Route"]):
    def published(self) -> RouteQuerySet:
        return self.filter(status=Route.Status.PUBLISHED)


class Route(models.Model):
    """A visa programme. Draft routes are never shown to applicants."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=60, unique=True)
    country = CountryField()
    name = models.CharField(max_length=200)
    official_name = models.CharField("official name or code", max_length=300, blank=True)
    summary = models.TextField(blank=True)
    official_url = models.URLField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(
        max_length=3, help_text="ISO 4217 code of money thresholds, e.g. EUR."
    )
    points_needed = models.PositiveIntegerField(null=True, blank=True)
    points_table_partial = models.BooleanField(
        default=False,
        help_text="Some points items are unpublished: a low total is 'unknown', never 'not met'.",
    )
    last_verified_on = models.DateField()
    last_verified_by = models.CharField(max_length=200)
    review_interval_days = models.PositiveIntegerField(default=90)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["country", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country.code})"

    @property
    def review_due_on(self) -> dt.date:
        return self.last_verified_on + dt.timedelta(days=self.review_interval_days)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return (today or timezone.localdate()) > self.review_due_on

    def clean(self) -> None:
        if self.currency and not (len(self.currency) == 3 and self.currency.isalpha()):
            raise ValidationError({"currency": "Enter a three-letter ISO 4217 code, e.g. EUR."})
        self.currency = self.currency.upper()


class KeyFact(Sourced):
    """What an applicant wants to know besides eligibility: fees, cap, rights..."""

    Topic = engine.FactTopic

    route = models.ForeignKey(Route, related_name="key_facts", on_delete=models.CASCADE)
    topic = models.CharField(max_length=20, choices=[(t.value, t.label) for t in engine.FactTopic])
    text = models.TextField()
    unclear = models.BooleanField(default=False)

    class Meta:
        ordering = ["route", "topic"]
        constraints = [
            models.UniqueConstraint(fields=["route", "topic"], name="one_key_fact_per_topic")
        ]

    def __str__(self) -> str:
        return f"{self.route.slug}: {self.get_topic_display()}"


class RequirementQuerySet(models.QuerySet["Requirement"]):
    def annotate_question_key(self) -> RequirementQuerySet:
        """The question's key without a join to each question row (rules.py maps it)."""
        return self.annotate(question_key=models.F("question__key"))


class Requirement(Sourced):
    """One rule of a route. Requirements with the same pathway are alternatives to other
    pathways; a blank pathway applies to all of them. A requirement with points is a scoring
    item of the route's points table rather than a gate."""

    Operator = engine.Operator
    Certainty = engine.Certainty

    route = models.ForeignKey(Route, related_name="requirements", on_delete=models.CASCADE)
    pathway = models.CharField(
        max_length=120, blank=True, help_text="Blank: applies to every pathway of the route."
    )
    question = models.ForeignKey(Question, related_name="requirements", on_delete=models.PROTECT)
    operator = models.CharField(
        max_length=10, choices=[(o.value, o.label) for o in engine.Operator]
    )
    value = models.JSONField(null=True, blank=True)
    certainty = models.CharField(
        max_length=10,
        choices=[(c.value, c.label) for c in engine.Certainty],
        default=engine.Certainty.SETTLED,
    )
    points = models.PositiveIntegerField(null=True, blank=True)
    points_group = models.CharField(max_length=60, blank=True)
    met_text = models.CharField("wording when met", max_length=300, blank=True)
    not_met_text = models.CharField("wording when not met", max_length=300, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_until = models.DateField(null=True, blank=True, help_text="Last day in force.")
    order = models.PositiveIntegerField(default=0)

    objects = RequirementQuerySet.as_manager()

    class Meta:
        ordering = ["route", "order", "id"]

    def __str__(self) -> str:
        return f"{self.route.slug}: {self.question.key} {self.get_operator_display()}"

    def clean_fields(self, exclude: Any = None) -> None:
        super().clean_fields(exclude=exclude)
        # Checked here rather than in clean() so that a form that already refused the value
        # (and so excludes it) does not report it twice.
        if exclude and "value" in exclude:
            return
        if self.question_id is not None and self.certainty == engine.Certainty.SETTLED:
            try:
                self.value = answers.parse_rule_value(
                    self.question.as_rule(), engine.Operator(self.operator), self.value
                )
            except ValueError as exc:
                raise ValidationError({"value": str(exc)}) from exc

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if (
            self.effective_from
            and self.effective_until
            and self.effective_until < self.effective_from
        ):
            errors["effective_until"] = "The last day in force is before the first."
        if self.points is not None and not self.points_group:
            errors["points_group"] = "Give the points group this item belongs to."
        if errors:
            raise ValidationError(errors)


class OpenQuestion(Sourced):
    """A route-level uncertainty advisers know about, shown with the route's result."""

    route = models.ForeignKey(Route, related_name="open_questions", on_delete=models.CASCADE)
    topic = models.CharField(max_length=120)
    text = models.TextField()
    show_if = models.JSONField(
        default=list, blank=True, help_text="Clauses that must all hold; empty: always shown."
    )
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["route", "order", "id"]

    def __str__(self) -> str:
        return f"{self.route.slug}: {self.topic}"

    def clean(self) -> None:
        if self.show_if:
            try:
                answers.parse_condition(self.show_if, known_questions=None)
            except ValueError as exc:
                raise ValidationError({"show_if": str(exc)}) from exc


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class Assessment(models.Model):
    """One applicant's answers, reachable only through its unguessable token. No name,
    no e-mail: the answers are all we keep."""

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    rules_version = models.CharField(max_length=64, blank=True)
    verdicts = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"Assessment {self.pk} of {self.created_at:%Y-%m-%d}"

    def answer_map(self) -> dict[str, Any]:
        return {a.question_key: a.value for a in self.answers.all()}


class Answer(models.Model):
    """One answer per question and assessment, so answering two questions at once in two
    tabs cannot overwrite either. A null value means "I don't know"."""

    assessment = models.ForeignKey(Assessment, related_name="answers", on_delete=models.CASCADE)
    question_key = models.CharField(max_length=60)
    value = models.JSONField(null=True)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "question_key"], name="one_answer_per_question"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_key}={self.value!r}"
