"""Advisers may edit drafts and scenarios and read the rules' history and the audit log; the
Reviewer group may also publish another adviser's draft (four eyes)."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

ADVISER_MODELS = ["scenario", "scenarioexpectation"]


def forwards(apps, schema_editor):
    for label in ("eligibility", "auditlog"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_contenttypes(app_config, apps=apps, verbosity=0)
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    advisers, _ = Group.objects.get_or_create(name="Adviser")
    advisers.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="eligibility", content_type__model__in=ADVISER_MODELS
        ),
        *Permission.objects.filter(
            content_type__app_label="eligibility", codename="view_routerevision"
        ),
        *Permission.objects.filter(content_type__app_label="auditlog", codename="view_logentry"),
    )
    reviewers, _ = Group.objects.get_or_create(name="Reviewer")
    reviewers.permissions.add(
        *Permission.objects.filter(content_type__app_label="eligibility", codename="publish_route")
    )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Reviewer").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0006_drafts_revisions_scenarios"),
        ("auditlog", "__latest__"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
