"""The rules advisers curate (questions, routes, requirements, key facts, open questions)
and the applicants' assessments. The engine never sees these classes: rules.py turns them
into an immutable snapshot first."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_countries.fields import CountryField

from eligibility import answers, engine
from eligibility.currencies import ISO_4217


def is_home_page(url: str) -> bool:
    """A site's home page says nothing in particular: no path beyond "/" and no query."""
    parts = urlsplit(url.strip())
    return parts.path in ("", "/") and not parts.query


def page_url(url: str) -> None:
    """A source is a page an adviser can check."""
    if is_home_page(url):
        raise ValidationError(
            "This is a site's home page; link the page that says it.", code="home_page"
        )


# A route is checked again at least this often; longer, and its facts go stale unseen.
LONGEST_REVIEW_INTERVAL_DAYS = 730


def _not_after_today(day: dt.date, what: str) -> None:
    if day > timezone.localdate():
        raise ValidationError(f"{day:%d %b %Y} is in the future: record {what}.", code="future")


def verified_by_today(day: dt.date) -> None:
    """A check of a route is something that has happened."""
    _not_after_today(day, "the day it was verified")


def dated_by_today(day: dt.date) -> None:
    """A source is as of a day that has come: the page's own date, or the day it was read."""
    _not_after_today(day, "the page's date, or the day it was read")


class Sourced(models.Model):
    """Every rule value, key fact and open question says where it comes from and as of when."""

    source_title = models.CharField(max_length=300)
    source_url = models.URLField(
        "source URL",
        max_length=500,
        validators=[page_url],
        help_text="The page that says it, not the site's home page.",
    )
    source_as_of = models.DateField("source as of", validators=[dated_by_today])
    source_as_of_approximate = models.BooleanField(
        "as-of date is approximate",
        default=False,
        help_text="The page shows no date: the as-of date is inferred (shown as “about”).",
    )

    class Meta:
        abstract = True

    def source(self) -> engine.Source:
        return engine.Source(
            self.source_title, self.source_url, self.source_as_of, self.source_as_of_approximate
        )


def _known_questions(extra: Question | None = None) -> dict[str, engine.QuestionRule]:
    """Every question as the engine reads it, for checking conditions when they are saved."""
    known = {q.key: q.as_rule(with_condition=False) for q in Question.objects.all()}
    if extra is not None and extra.key:
        known[extra.key] = extra.as_rule(with_condition=False)
    return known


def _checked_condition(row: models.Model, field: str, extra: Question | None = None) -> None:
    """A condition is refused when saved unless it is a list of clauses that each parse for
    their question, as applicants' answers do. A blank box is no condition."""
    raw = getattr(row, field)
    if raw is None or raw == "":
        setattr(row, field, [])
        return
    if raw == []:
        return
    try:
        answers.parse_condition(raw, known_questions=_known_questions(extra))
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise ValidationError({field: str(exc)}) from exc


# The fields of a question that decide which rule values it takes (named alike on its rule).
_RULE_FIELDS = ("kind", "choices", "min_value", "max_value")


def _reads(question: engine.QuestionRule, operator: Any, value: Any) -> bool:
    try:
        answers.parse_rule_value(question, engine.Operator(operator), value)
    except (ValueError, TypeError, ArithmeticError):
        return False
    return True


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
    unit = models.CharField(
        max_length=20,
        blank=True,
        help_text="Singular unit of a number (year, point) or the period of an amount of "
        "money (year, hour), so that rules read “at least 3 years”, “€50,700 a year”.",
    )
    month_question = models.SlugField(
        "month question",
        max_length=60,
        blank=True,
        help_text="For a year question: the key of the question asking the month, so that "
        "periods counted from a date (“within 3 years of graduating”) can be decided.",
    )
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
            self.as_rule(with_condition=False)  # its condition is checked at its own field
        except ValueError as exc:
            raise ValidationError({"choices": str(exc)}) from exc
        if self.kind in (answers.Kind.CHOICE, answers.Kind.ORDINAL) and not self.choices:
            raise ValidationError({"choices": "A choice question needs at least one choice."})
        if (
            self.min_value is not None
            and self.max_value is not None
            and self.min_value > self.max_value
        ):
            raise ValidationError({"max_value": "The largest answer is below the smallest."})
        if self.month_question and not Question.objects.filter(key=self.month_question).exists():
            raise ValidationError(
                {"month_question": f"No question has the key “{self.month_question}”."}
            )
        _checked_condition(self, "ask_if", extra=self)
        self._check_rules_still_read()

    def _check_rules_still_read(self) -> None:
        """A change of kind, choices or range is refused while gates or conditions hold
        values the question would no longer take, so that no stored rule stops reading."""
        stored = Question.objects.filter(pk=self.pk).first() if self.pk else None
        if stored is None:
            return
        new = self.as_rule(with_condition=False)
        try:
            old: engine.QuestionRule | None = stored.as_rule(with_condition=False)
        except ValueError:
            old = None
        changed = [
            name for name in _RULE_FIELDS if old is None or getattr(old, name) != getattr(new, name)
        ]
        if not changed:
            return
        refused = self._rules_refused_by(new)
        if refused:
            more = f" and {len(refused) - 3} more" if len(refused) > 3 else ""
            raise ValidationError(
                {
                    changed[0]: f"Rules hold values this change would refuse: "
                    f"{'; '.join(refused[:3])}{more}. Change those first."
                }
            )

    def _rules_refused_by(self, new: engine.QuestionRule) -> list[str]:
        """Where a gate's value, or a condition's clause on this question, does not read as
        `new`."""
        refused = []
        values = (
            RequirementValue.objects.filter(requirement__question_id=self.pk)
            .select_related("requirement__route")
            .order_by("requirement__route__slug", "requirement__order", "pk")
        )
        for value in values:
            gate = value.requirement
            if value.certainty in VALUELESS and value.value is None:
                continue
            if not _reads(new, gate.operator, value.value):
                refused.append(f"{gate.route.slug} gate {gate.order}, value {value.value!r}")
        conditions: list[tuple[str, Any]] = [
            (f"question {key}, ask only if", raw)
            for key, raw in Question.objects.exclude(pk=self.pk).values_list("key", "ask_if")
        ]
        conditions += [
            (f"{slug} gate {order}, applies only if", raw)
            for slug, order, raw in Requirement.objects.values_list(
                "route__slug", "order", "applies_if"
            )
        ]
        conditions += [
            (f"{slug} open question “{topic}”, show only if", raw)
            for slug, topic, raw in OpenQuestion.objects.values_list(
                "route__slug", "topic", "show_if"
            )
        ]
        for where, raw in conditions:
            clauses = raw if isinstance(raw, list) else []
            if any(
                isinstance(c, dict)
                and c.get("question") == self.key
                and not _reads(new, c.get("operator"), c.get("value"))
                for c in clauses
            ):
                refused.append(where)
        return refused

    def as_rule(self, *, with_condition: bool = True) -> engine.QuestionRule:
        """The question as the engine reads it. Its "ask only if" values are read against
        the other questions later (rules.py); `with_condition=False` leaves it out, for a
        question whose condition cannot be read."""
        return answers.question_rule(
            key=self.key,
            label=self.label,
            kind=self.kind,
            choices=self.choices,
            min_value=self.min_value,
            max_value=self.max_value,
            ask_if=self.ask_if if with_condition else (),
            help_text=self.help_text,
            section=self.section,
            order=self.order,
            short_label=self.short_label,
            unit=self.unit,
            month_key=self.month_question,
        )


class RouteQuerySet(models.QuerySet["Route"]):
    def published(self) -> RouteQuerySet:
        return self.filter(status=Route.Status.PUBLISHED)

    def with_rules(self) -> RouteQuerySet:
        """Routes with their gates (and each gate's question key), dated values, key facts,
        open questions and next steps: five more queries, however many routes."""
        return self.prefetch_related(
            models.Prefetch(
                "requirements",
                queryset=Requirement.objects.annotate_question_key()
                .order_by("order", "id")
                .prefetch_related(
                    models.Prefetch(
                        "values",
                        queryset=RequirementValue.objects.order_by(
                            models.F("effective_from").asc(nulls_first=True), "id"
                        ),
                    )
                ),
            ),
            models.Prefetch("key_facts", queryset=KeyFact.objects.order_by("topic")),
            models.Prefetch(
                "open_questions", queryset=OpenQuestion.objects.order_by("order", "id")
            ),
            models.Prefetch("next_steps", queryset=NextStep.objects.order_by("order", "id")),
        )


class Route(models.Model):
    """A visa programme. Draft routes are never shown to applicants. A published route is
    never edited in place: advisers edit a draft copy of it (`draft_of`), which a second
    adviser reviews and publishes over it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    slug = models.SlugField(max_length=60, unique=True)
    country = CountryField()
    name = models.CharField(max_length=200)
    official_name = models.CharField("official name or code", max_length=300, blank=True)
    summary = models.TextField(blank=True)
    official_url = models.URLField(
        "overview page",
        max_length=500,
        blank=True,
        validators=[page_url],
        help_text="The page applicants should read first (an official one where there is one).",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    currency = models.CharField(
        max_length=3, help_text="ISO 4217 code of money thresholds, e.g. EUR."
    )
    points_needed = models.PositiveIntegerField(null=True, blank=True)
    points_table_partial = models.BooleanField(
        default=False,
        help_text="Some points items are unpublished: a low total is 'unknown', never 'not met'.",
    )
    points_table_partial_from = models.DateField(
        "points table partial from",
        null=True,
        blank=True,
        help_text="The table becomes partly unpublished on this date (e.g. announced new "
        "points whose values are unknown). Blank: as the box above says.",
    )
    last_verified_on = models.DateField(validators=[verified_by_today])
    last_verified_by = models.CharField(max_length=200)
    review_interval_days = models.PositiveIntegerField(
        default=90,
        validators=[
            MinValueValidator(1, "Give a review interval of at least 1 day."),
            MaxValueValidator(
                LONGEST_REVIEW_INTERVAL_DAYS,
                f"Review a route at least every {LONGEST_REVIEW_INTERVAL_DAYS} days (two years).",
            ),
        ],
    )
    opens_on = models.DateField(
        "opens on",
        null=True,
        blank=True,
        help_text="The first day applications are taken. Before it the route does not fit. "
        "Blank: open since before our records.",
    )
    closes_on = models.DateField(
        "closes on",
        null=True,
        blank=True,
        help_text="The last day applications are taken; after it the route does not fit.",
    )
    updated_at = models.DateTimeField(auto_now=True)
    draft_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        related_name="drafts",
        on_delete=models.CASCADE,
        help_text="The published route this draft will replace when it is published.",
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    withdraw = models.BooleanField(
        "take the route off the site when published",
        default=False,
        help_text="Publishing this draft unpublishes the route: applicants no longer see it. "
        "(To end applications on a date instead, give it a closing date.)",
    )
    change_note = models.TextField(
        "what changes and why",
        blank=True,
        help_text="For the reviewer and the route's history, e.g. “2027 salary thresholds”.",
    )

    objects = RouteQuerySet.as_manager()

    class Meta:
        ordering = ["country", "name"]
        permissions = [("publish_route", "Can review and publish another adviser's draft")]
        constraints = [
            models.UniqueConstraint(fields=["draft_of"], name="one_draft_per_route"),
        ]

    def __str__(self) -> str:
        draft = ", draft" if self.draft_of_id is not None else ""
        return f"{self.name} ({self.country.code}){draft}"

    @property
    def review_due_on(self) -> dt.date:
        return engine.days_after(self.last_verified_on, self.review_interval_days)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        return (today or timezone.localdate()) > self.review_due_on

    @property
    def is_draft_copy(self) -> bool:
        return self.draft_of_id is not None

    @property
    def published_slug(self) -> str:
        """The slug applicants and scenarios know the route by, for a draft copy too."""
        return self.draft_of.slug if self.draft_of is not None else self.slug

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.pk}

    def clean(self) -> None:
        errors = {}
        self.currency = self.currency.strip().upper()
        if self.currency and self.currency not in ISO_4217:
            errors["currency"] = (
                f"“{self.currency[:10]}” is not an ISO 4217 currency code; enter one like EUR."
            )
        if self.opens_on and self.closes_on and self.closes_on < self.opens_on:
            errors["closes_on"] = "The route closes before it opens."
        if errors:
            raise ValidationError(errors)


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

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.route_id}


def https_url(url: str) -> None:
    """An official page is linked over HTTPS, so that what the applicant opens is that page."""
    if urlsplit(url.strip()).scheme.lower() != "https":
        raise ValidationError("Link the page over HTTPS (an https:// address).", code="not_https")


# An applicant reads the next steps of several routes at once: a few each, not a manual.
MOST_NEXT_STEPS = 6


class NextStep(Sourced):
    """One thing the applicant (or their employer) does next on a route, in order: who does
    what, and the official page where it is done or explained."""

    route = models.ForeignKey(Route, related_name="next_steps", on_delete=models.CASCADE)
    order = models.PositiveIntegerField(default=0)
    text = models.TextField(
        help_text="Who does what, in plain words, e.g. “Your employer registers you in the "
        "lottery.”"
    )
    url = models.URLField(
        "official page",
        max_length=500,
        validators=[https_url, page_url],
        help_text="The official page where the step is done or explained (https).",
    )

    class Meta:
        ordering = ["route", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["route", "order"], name="one_next_step_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.route.slug}: next step {self.order}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.route_id}

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not self.text.strip():
            errors["text"] = "Say what the applicant does next."
        if self.source_url and urlsplit(self.source_url.strip()).scheme.lower() != "https":
            errors["source_url"] = "Link the source over HTTPS (an https:// address)."
        counted = getattr(self, "counted_with_siblings", False)  # by the admin's formset
        if self.pk is None and self.route_id is not None and not counted:
            stored = NextStep.objects.filter(route_id=self.route_id).count()
            if stored >= MOST_NEXT_STEPS:
                errors["__all__"] = f"A route has at most {MOST_NEXT_STEPS} next steps."
        if errors:
            raise ValidationError(errors)

    def as_step(self) -> engine.NextStep:
        return engine.NextStep(self.text, self.url, self.source())


class RequirementQuerySet(models.QuerySet["Requirement"]):
    def annotate_question_key(self) -> RequirementQuerySet:
        """The question's key without a join to each question row (rules.py maps it)."""
        return self.annotate(question_key=models.F("question__key"))


def no_numbers(text: str) -> None:
    if any(ch.isdigit() for ch in text):
        raise ValidationError(
            "An explanation may not carry numbers: the rule's figures are shown from its "
            "dated values, so that the words and the rule can never disagree."
        )


class Requirement(models.Model):
    """A gate of a route: what is checked (a question and an operator, for a pathway, with
    points). What it is checked against, and from when, are its dated values. Gates with the
    same pathway are alternatives to other pathways; a blank pathway applies to all of them. A
    gate with points is a scoring item of the route's points table."""

    Operator = engine.Operator

    route = models.ForeignKey(Route, related_name="requirements", on_delete=models.CASCADE)
    pathway = models.CharField(
        max_length=120, blank=True, help_text="Blank: applies to every pathway of the route."
    )
    question = models.ForeignKey(Question, related_name="requirements", on_delete=models.PROTECT)
    operator = models.CharField(
        max_length=10, choices=[(o.value, o.label) for o in engine.Operator]
    )
    points = models.PositiveIntegerField(null=True, blank=True)
    points_group = models.CharField(max_length=60, blank=True)
    explanation = models.CharField(
        max_length=300,
        blank=True,
        validators=[no_numbers],
        help_text="Optional words added to the generated rule, e.g. “It must be related to the "
        "job.” No numbers: those come from the values.",
    )
    applies_if = models.JSONField(
        "applies only if",
        default=list,
        blank=True,
        help_text="Clauses that must all hold for this gate to apply, e.g. "
        '[{"question": "us_cap_exempt_employer", "operator": "eq", "value": false}]. Where '
        "they do not, the gate stands aside (a points item earns nothing). Empty: always applies.",
    )
    order = models.PositiveIntegerField(default=0)

    objects = RequirementQuerySet.as_manager()

    class Meta:
        ordering = ["route", "order", "id"]

    def __str__(self) -> str:
        pathway = self.pathway or "every pathway"
        return f"{self.route.slug}: {pathway} · {self.question.key} {self.get_operator_display()}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.route_id}

    def clean(self) -> None:
        if self.points is not None and not self.points_group:
            raise ValidationError({"points_group": "Give the points group this item belongs to."})
        _checked_condition(self, "applies_if")


# Certainties whose value may be left blank: the answer is never compared with it.
VALUELESS = (
    engine.Certainty.UNCLEAR,
    engine.Certainty.NOT_AVAILABLE,
    engine.Certainty.NOT_REQUIRED,
)


class RequirementValue(Sourced):
    """What a gate is checked against from a date: a settled value, an unclear rule ("unknown
    from this date"), or a lottery, quota or approval (chance). A value runs until its last
    day, or without end; two values of a gate may not be in force on the same day."""

    Certainty = engine.Certainty

    requirement = models.ForeignKey(Requirement, related_name="values", on_delete=models.CASCADE)
    value = models.JSONField(null=True, blank=True)
    certainty = models.CharField(
        max_length=16,
        choices=[(c.value, c.label) for c in engine.Certainty],
        default=engine.Certainty.SETTLED,
    )
    effective_from = models.DateField(
        null=True, blank=True, help_text="First day in force. Blank: since the route opened."
    )
    effective_until = models.DateField(
        null=True,
        blank=True,
        help_text="Last day in force. Blank: open-ended (end it before adding a later value).",
    )
    note = models.TextField(
        blank=True,
        help_text="For unclear and chance values: what is not known, or what decides "
        "(shown to applicants as an open question).",
    )

    class Meta:
        # Values with no first day come first on every database (PostgreSQL sorts nulls last).
        ordering = ["requirement", models.F("effective_from").asc(nulls_first=True), "id"]
        verbose_name = "dated value"

    def __str__(self) -> str:
        shown = self.get_certainty_display() if self.value is None else str(self.value)
        start = f"from {self.effective_from:%d %b %Y}" if self.effective_from else "from the start"
        end = f" to {self.effective_until:%d %b %Y}" if self.effective_until else ""
        # With its gate, so that the audit log and history say which gate's value changed.
        return f"{self.requirement}: {shown}, {start}{end}"

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.requirement.route_id}

    def clean_fields(self, exclude: Any = None) -> None:
        super().clean_fields(exclude=exclude)
        # Checked here rather than in clean() so that a form that already refused the value
        # (and so excludes it) does not report it twice.
        if exclude and "value" in exclude:
            return
        try:
            requirement = self.requirement
        except Requirement.DoesNotExist:
            return
        if requirement.question_id is None:
            return  # the gate's own form says a question is missing
        if self.certainty in VALUELESS and self.value in (None, ""):
            self.value = None
            return
        try:
            self.value = answers.parse_rule_value(
                requirement.question.as_rule(),
                engine.Operator(requirement.operator),
                self.value,
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
        if self.certainty != engine.Certainty.SETTLED and not self.note.strip():
            errors["note"] = (
                "Say what is unclear, or what decides (a lottery, a quota, an approval)."
            )
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

    def get_additional_data(self) -> dict[str, Any]:
        return {"route_id": self.route_id}

    def clean(self) -> None:
        _checked_condition(self, "show_if")


def new_token() -> str:
    return secrets.token_urlsafe(32)  # 256 bits


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def live(self) -> AssessmentQuerySet:
        """Assessments within their retention period: an older one is gone for everyone,
        whether or not purge_assessments has run yet."""
        kept_since = timezone.now() - dt.timedelta(days=settings.ASSESSMENT_RETENTION_DAYS)
        return self.filter(created_at__gte=kept_since)


class Assessment(models.Model):
    """One applicant's answers, reachable only through its unguessable token. No name,
    no e-mail: the answers are all we keep."""

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    evaluated_at = models.DateTimeField(null=True, blank=True)
    rules_version = models.CharField(max_length=64, blank=True)
    verdicts = models.JSONField(default=dict, blank=True)

    objects = AssessmentQuerySet.as_manager()

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


class ResultsPdf(models.Model):
    """The results as a PDF for one assessment, made by a PDF worker (eligibility.pdf_jobs),
    not by the web process that was asked. Kept, so that asking again with the same answers,
    rules, day, paper and link choice (the fingerprint) is served without rendering again;
    deleted with its assessment, and by purge_assessments once PDF_KEEP_HOURS old."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a PDF worker"
        RENDERING = "rendering", "Being made"
        READY = "ready", "Ready"
        TOO_LONG = "too_long", "Too long to print"
        FAILED = "failed", "Failed"

    PENDING = (Status.QUEUED, Status.RENDERING)

    assessment = models.ForeignKey(Assessment, related_name="pdfs", on_delete=models.CASCADE)
    fingerprint = models.CharField(max_length=64)
    page_size = models.CharField(max_length=10)
    # Printed in the PDF only when the applicant asked for it.
    resume_url = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    content = models.BinaryField(null=True, editable=False)
    pages = models.PositiveIntegerField(null=True)
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            # At most one PDF being made per assessment: twelve clicks render once.
            models.UniqueConstraint(
                fields=["assessment"],
                condition=models.Q(status__in=["queued", "rendering"]),
                name="one_pdf_in_the_making_per_assessment",
            )
        ]
        indexes = [models.Index(fields=["assessment", "fingerprint"])]

    def __str__(self) -> str:
        return f"PDF {self.pk} of assessment {self.assessment_id}: {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status in self.PENDING


class RouteRevision(models.Model):
    """A route as it was published: its catalogue entry (catalogue.export_route), who drafted
    it and who reviewed and published it. The history advisers read and revert to."""

    route = models.ForeignKey(Route, related_name="revisions", on_delete=models.CASCADE)
    number = models.PositiveIntegerField()
    snapshot = models.JSONField(encoder=DjangoJSONEncoder)
    change_note = models.TextField(blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["route", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["route", "number"], name="one_revision_number")
        ]

    def __str__(self) -> str:
        return f"{self.route.slug} revision {self.number}"


class Scenario(models.Model):
    """An applicant profile with the verdicts advisers expect for some routes: the rules'
    tests, kept as data beside the rules and run against the rules in the database (by
    `check_scenarios`, the admin, and before a draft is published)."""

    name = models.CharField(max_length=200, unique=True)
    on = models.DateField("assessed on")
    answers = models.JSONField(
        default=dict,
        blank=True,
        help_text='Question keys and answers, e.g. {"age": 29, "citizenship": ["IN"]}. A '
        "missing key is unanswered; null is “I don't know”.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ScenarioExpectation(models.Model):
    """The verdict a scenario expects for one route, and what it checks."""

    Verdict = engine.Verdict

    scenario = models.ForeignKey(Scenario, related_name="expectations", on_delete=models.CASCADE)
    route = models.ForeignKey(Route, related_name="expectations", on_delete=models.CASCADE)
    verdict = models.CharField(max_length=20, choices=[(v.value, v.label) for v in engine.Verdict])
    reason_contains = models.CharField(
        "reason contains",
        max_length=300,
        blank=True,
        help_text="Optional words the reason must contain, e.g. “job offer”.",
    )
    checks = models.CharField(
        "what it checks", max_length=500, blank=True, help_text="Why this is the right verdict."
    )

    class Meta:
        ordering = ["scenario", "route__slug"]
        constraints = [
            models.UniqueConstraint(fields=["scenario", "route"], name="one_expectation_per_route")
        ]

    def __str__(self) -> str:
        return f"{self.scenario.name} / {self.route.slug}: {self.verdict}"


# What the published rules are made of: a change to any of these changes the rules
# (rules.watch_rule_changes) and is audited (audit.register_rule_models).
RULE_MODELS = (Question, Route, Requirement, RequirementValue, KeyFact, OpenQuestion, NextStep)
