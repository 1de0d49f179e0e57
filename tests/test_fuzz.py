"""Bad input of every kind (wrong types, huge numbers, unicode, empty and overlong text) gets
a clear message, never a server error, and never disturbs the answers already given: in
every questionnaire field, in the assess command, and in the admin's rule form."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import answers, engine
from eligibility.admin import RequirementForm
from eligibility.models import Answer, Assessment, Question
from tests.factories import QuestionFactory, RouteFactory, requirement_form_fields

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

numbers_as_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        ["1e400", "9" * 400, "-0", "0x1A", "1_000", "٣٠", "３０", "30 years", "€50,000"]
    ),
)
bad_text = st.one_of(
    st.text(max_size=40),
    st.text(min_size=101, max_size=2000),  # overlong
    st.just(""),
    st.just("   "),
    numbers_as_text,
    st.sampled_from(
        ["null", "None", "true", "[]", "{}", "yes please", "DE,US", "xx", "<b>", "\u202e"]
    ),
)


def without_null(text: str) -> str:
    # A NUL byte cannot even reach a form through a real browser's urlencoded POST.
    return text.replace("\x00", "")


# --- The questionnaire ------------------------------------------------------------------------


@pytest.fixture
def fuzz_assessment(db):
    """Every kind of question, with earlier answers to each core question but one."""
    QuestionFactory(key="fuzz_decimal", kind="decimal", min_value=Decimal("0.5"))
    QuestionFactory(key="fuzz_ordinal", kind="ordinal", choices=[["low", "Low"], ["high", "High"]])
    RouteFactory()
    assessment = Assessment.objects.create()
    for key, value in {"age": 29, "education_level": "master", "stem_field": True}.items():
        Answer.objects.create(assessment=assessment, question_key=key, value=value)
    return assessment


def stored(assessment: Assessment) -> dict[str, object]:
    return dict(Answer.objects.filter(assessment=assessment).values_list("question_key", "value"))


@pytest.mark.django_db
def test_no_questionnaire_field_errors_on_bad_input_and_earlier_answers_stay(
    client, fuzz_assessment
):
    keys = sorted(Question.objects.values_list("key", flat=True))
    assert len(keys) >= 19

    @FUZZ
    @given(
        key=st.sampled_from(keys),
        raw=bad_text,
        extra=st.dictionaries(
            st.sampled_from(["dont_know", "next", "answer2"]), bad_text, max_size=2
        ),
        twice=st.booleans(),
        htmx=st.booleans(),
    )
    def post_bad_input(key, raw, extra, twice, htmx):
        before = stored(fuzz_assessment)
        data: dict[str, object] = {**extra, "answer": [raw, raw] if twice else raw}
        data = {
            k: [without_null(x) for x in v] if isinstance(v, list) else without_null(v)
            for k, v in data.items()
        }
        headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
        url = reverse("question", args=[fuzz_assessment.token, key])
        response = client.post(url, data, **headers)

        assert response.status_code in (200, 302), response.status_code
        after = stored(fuzz_assessment)
        assert {k: v for k, v in after.items() if k != key} == {
            k: v for k, v in before.items() if k != key
        }
        saved = (
            response.status_code == 302
            or "HX-Redirect" in response
            or ("error-message" not in response.content.decode())
        )
        if saved:
            assert key in after
        else:
            page = response.content.decode()
            message = re.search(r'class="error-message"[^>]*>(.*?)</p>', page, re.S)
            assert message is not None
            assert len(message.group(1).strip()) > len("Error:")
            assert after.get(key) == before.get(key)

    post_bad_input()


# --- The assess command -----------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False)
    | bad_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
answer_files = st.one_of(
    st.dictionaries(
        st.sampled_from(
            [
                "age",
                "education_level",
                "stem_field",
                "offered_salary",
                "job_offer_country",
                "graduation_year",
                "english_level",
            ]
        )
        | st.text(max_size=12),
        json_values,
        max_size=4,
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=60),
)


@pytest.mark.django_db
@FUZZ
@given(text=answer_files)
def test_the_assess_command_answers_any_input_with_results_or_one_line(text):
    with tempfile.NamedTemporaryFile("w", suffix=".json", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        out = StringIO()
        try:
            call_command("assess", file.name, stdout=out, on="2026-06-01")
        except CommandError as exc:
            assert exc.returncode == 2
            assert "\n" not in str(exc) and str(exc)
        else:
            assert out.getvalue()


def test_the_assess_command_process_prints_one_line_and_no_traceback_for_bad_input(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'assess.sqlite3'}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    for text in ['{"age": "x"}', "[1, 2", '{"age": 1e999}', '{"nope": 1}', "\udcff"]:
        done = subprocess.run(
            [sys.executable, "manage.py", "assess", "-"],
            cwd=ROOT,
            env=env,
            input=text.encode("utf-8", "surrogateescape"),
            capture_output=True,
            timeout=60,
        )
        err = done.stderr.decode("utf-8", "replace")
        assert done.returncode == 2, err
        assert "Traceback" not in err
        assert len(err.strip().splitlines()) == 1, err


# --- The admin's rule form --------------------------------------------------------------------


def requirement_data(question: Question, operator: str, value: str, certainty: str) -> dict:
    return requirement_form_fields(
        route=RouteFactory.create().pk,
        question=question.pk,
        operator=operator,
        value=value,
        certainty=certainty,
        order="0",
        source_url="https://example.org/",
    )


@pytest.mark.django_db
def test_the_rule_form_refuses_bad_values_for_every_question_kind_with_a_message():
    questions = {q.kind: q for q in Question.objects.all()}
    questions.setdefault("decimal", QuestionFactory(key="fuzz_decimal_rule", kind="decimal"))
    assert set(questions) == {k.value for k in engine.Kind}

    @FUZZ
    @given(
        kind=st.sampled_from(sorted(questions)),
        operator=st.sampled_from([o.value for o in engine.Operator] + ["", "bogus"]),
        value=bad_text,
        certainty=st.sampled_from([c.value for c in engine.Certainty] + ["maybe"]),
    )
    def fill_in(kind, operator, value, certainty):
        form = RequirementForm(
            data=requirement_data(questions[kind], operator, without_null(value), certainty)
        )
        if form.is_valid():
            rule = questions[kind].as_rule()
            if certainty == engine.Certainty.SETTLED:
                answers.parse_rule_value(
                    rule, engine.Operator(operator), form.cleaned_data["value"]
                )
        else:
            assert all(all(str(m).strip() for m in msgs) for msgs in form.errors.values())

    fill_in()
