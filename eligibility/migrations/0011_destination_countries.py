"""A core question, asked right after citizenship and where the applicant lives: the countries
they would consider moving to. Questions that matter only to routes elsewhere are not asked."""

from django.db import migrations

DESTINATIONS = dict(
    key="destination_countries",
    label="Which countries would you consider moving to?",
    short_label="countries you would consider",
    kind="countries",
    choices=[
        ["CN", "China"],
        ["DE", "Germany"],
        ["JP", "Japan"],
        ["NZ", "New Zealand"],
        ["KR", "South Korea"],
        ["GB", "United Kingdom"],
        ["US", "United States"],
    ],
    section="About you",
    order=7,
    help_text="Tick all that you would consider. If you leave them all unticked or choose "
    "“I don't know”, we look at routes in every country.",
)


def add_destinations(apps, schema_editor):
    Question = apps.get_model("eligibility", "Question")
    Question.objects.get_or_create(key=DESTINATIONS["key"], defaults=DESTINATIONS)


def remove_destinations(apps, schema_editor):
    Question = apps.get_model("eligibility", "Question")
    Question.objects.filter(key=DESTINATIONS["key"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0010_route_next_steps"),
    ]

    operations = [migrations.RunPython(add_destinations, remove_destinations)]
