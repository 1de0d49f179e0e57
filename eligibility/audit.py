"""The audit trail of rule changes: django-auditlog records who changed which rule, when, and
each field's old and new value (Admin → Log entries). Applicants' assessments are not
audited: we keep their answers and nothing about them."""

from __future__ import annotations

from auditlog.registry import auditlog

from eligibility.models import RULE_MODELS, Scenario, ScenarioExpectation

# Scenarios are audited with the rules, though they do not change what applicants see.
AUDITED_MODELS = (*RULE_MODELS, Scenario, ScenarioExpectation)


def register_rule_models() -> None:
    for model in AUDITED_MODELS:
        if not auditlog.contains(model):
            # updated_at changes with every save; on its own it says nothing.
            auditlog.register(model, exclude_fields=["updated_at"])
