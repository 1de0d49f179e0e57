"""The core questions as the migrations leave them, for tests whose database was flushed
(live_server flushes migration data after each test)."""

from __future__ import annotations

import importlib

from eligibility.models import Question

_FIRST = importlib.import_module("eligibility.migrations.0002_core_questions_and_adviser_group")
_GATES = importlib.import_module("eligibility.migrations.0003_gates_and_dated_values")
_DESTINATIONS = importlib.import_module("eligibility.migrations.0011_destination_countries")
CORE_QUESTIONS = [*_FIRST.CORE_QUESTIONS, *_GATES.CORE_QUESTIONS, _DESTINATIONS.DESTINATIONS]


def restore_core_questions() -> None:
    for fields in CORE_QUESTIONS:
        Question.objects.get_or_create(key=fields["key"], defaults=fields)
    Question.objects.filter(key="graduation_year").update(month_question="graduation_month")
    Question.objects.filter(key__in=["years_experience", "offered_salary"]).update(unit="year")
