"""The core questions (a stable interface for the CLI, the catalogue and later an API) and the
Adviser group, which may edit rules and nothing else."""

from django.contrib.auth.management import create_permissions
from django.contrib.contenttypes.management import create_contenttypes
from django.db import migrations

CEFR = [
    ["none", "None"],
    ["A1", "A1 – beginner"],
    ["A2", "A2 – elementary"],
    ["B1", "B1 – intermediate"],
    ["B2", "B2 – upper intermediate"],
    ["C1", "C1 – advanced"],
    ["C2", "C2 – proficient"],
]

CORE_QUESTIONS = [
    dict(
        key="age",
        label="How old are you?",
        short_label="age",
        kind="integer",
        min_value=16,
        max_value=100,
        section="About you",
        order=10,
        help_text="In whole years, today.",
    ),
    dict(
        key="current_country",
        label="Which country do you live in now?",
        short_label="country of residence",
        kind="country",
        section="About you",
        order=20,
        help_text="Some rules depend on where you apply from.",
    ),
    dict(
        key="has_dependants",
        label="Would a partner or children move with you?",
        short_label="answer about dependants",
        kind="boolean",
        section="About you",
        order=30,
    ),
    dict(
        key="education_level",
        label="What is your highest qualification?",
        short_label="highest qualification",
        kind="ordinal",
        section="Education",
        order=40,
        choices=[
            ["none", "No formal qualification"],
            ["secondary", "Secondary school"],
            ["vocational", "Vocational training"],
            ["bachelor", "Bachelor's degree"],
            ["master", "Master's degree"],
            ["doctorate", "Doctorate (PhD)"],
        ],
    ),
    dict(
        key="stem_field",
        label="Is your highest qualification in science, technology, engineering or maths?",
        short_label="STEM field",
        kind="boolean",
        section="Education",
        order=50,
    ),
    dict(
        key="university_rank",
        label="Where is the institution that awarded it ranked worldwide?",
        short_label="institution's world ranking",
        kind="choice",
        section="Education",
        order=60,
        help_text="Use a major world ranking (QS or THE).",
        choices=[
            ["top100", "In the top 100"],
            ["top200", "Ranked 101 to 200"],
            ["top500", "Ranked 201 to 500"],
            ["other", "Lower, or not ranked"],
        ],
    ),
    dict(
        key="graduation_year",
        label="In which year did you gain it?",
        short_label="graduation year",
        kind="integer",
        min_value=1950,
        max_value=2035,
        section="Education",
        order=70,
    ),
    dict(
        key="degree_country",
        label="In which country did you gain it?",
        short_label="country of qualification",
        kind="country",
        section="Education",
        order=80,
    ),
    dict(
        key="years_experience",
        label="How many years of professional experience do you have?",
        short_label="years of experience",
        kind="integer",
        min_value=0,
        max_value=60,
        section="Work",
        order=90,
        help_text="Whole years of paid work at a professional level.",
    ),
    dict(
        key="job_offer_country",
        label="Do you have a job offer? If so, in which country?",
        short_label="job offer country",
        kind="country",
        section="Work",
        order=100,
        choices=[["none", "No job offer"]],
    ),
    dict(
        key="offered_salary",
        label="What annual gross salary does the job offer pay?",
        short_label="offered salary",
        kind="money",
        min_value=0,
        max_value=1000000000,
        section="Work",
        order=110,
        help_text="Before tax, per year, in the currency of the country of the job.",
        ask_if=[{"question": "job_offer_country", "operator": "ne", "value": "none"}],
    ),
    dict(
        key="english_level",
        label="How well do you know English?",
        short_label="English level",
        kind="ordinal",
        section="Languages",
        order=120,
        choices=CEFR,
        help_text="CEFR level of a recognised test or equivalent.",
    ),
    dict(
        key="german_level",
        label="How well do you know German?",
        short_label="German level",
        kind="ordinal",
        section="Languages",
        order=130,
        choices=CEFR,
    ),
    dict(
        key="chinese_level",
        label="How well do you know Chinese (Mandarin)?",
        short_label="Chinese level",
        kind="ordinal",
        section="Languages",
        order=140,
        choices=CEFR,
    ),
    dict(
        key="korean_level",
        label="How well do you know Korean?",
        short_label="Korean level",
        kind="ordinal",
        section="Languages",
        order=150,
        choices=CEFR,
    ),
    dict(
        key="japanese_level",
        label="How well do you know Japanese?",
        short_label="Japanese level",
        kind="ordinal",
        section="Languages",
        order=160,
        choices=CEFR,
    ),
    dict(
        key="proof_of_funds",
        label="Could you show funds to live on for a year without work?",
        short_label="answer about funds",
        kind="boolean",
        section="Money",
        order=170,
    ),
]

RULE_MODELS = ["question", "route", "requirement", "keyfact", "openquestion"]


def forwards(apps, schema_editor):
    Question = apps.get_model("eligibility", "Question")
    for fields in CORE_QUESTIONS:
        Question.objects.get_or_create(key=fields["key"], defaults=fields)

    app_config = apps.get_app_config("eligibility")
    app_config.models_module = True
    create_contenttypes(app_config, apps=apps, verbosity=0)
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    advisers, _ = Group.objects.get_or_create(name="Adviser")
    advisers.permissions.set(
        Permission.objects.filter(
            content_type__app_label="eligibility", content_type__model__in=RULE_MODELS
        )
    )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Adviser").delete()
    keys = [q["key"] for q in CORE_QUESTIONS]
    apps.get_model("eligibility", "Question").objects.filter(key__in=keys).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("eligibility", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
