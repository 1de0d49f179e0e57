from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "eligibility"
    verbose_name = "Route rules"
    default_auto_field = "django.db.models.BigAutoField"
