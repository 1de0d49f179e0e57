from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = "Route rules"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from eligibility import audit, rules

        audit.register_rule_models()
        rules.watch_rule_changes()
