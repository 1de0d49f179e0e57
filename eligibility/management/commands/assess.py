"""python manage.py assess ANSWERS.json [--on YYYY-MM-DD] [--format text|json]
python manage.py assess ANSWERS.json --format pdf --output FILE [--paper A4|letter]"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from eligibility import engine, pdf, report
from eligibility.advisers.scenarios import parse_answers
from eligibility.management.options import evaluation_date
from eligibility.rules import load_rulebook


def read_answers(text: str, book: engine.RuleBook, name: str) -> dict[str, Any]:
    """Answers from JSON: a missing key is unanswered, null is "I don't know"."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"{name} is not valid JSON: {exc}.", returncode=2) from None
    except ValueError:  # Python reads no integer of more digits than this
        raise CommandError(
            f"{name} holds a number of more than {sys.get_int_max_str_digits()} digits; "
            "no answer is that long.",
            returncode=2,
        ) from None
    except RecursionError:
        raise CommandError(
            f"{name} is nested too deeply to read: no answer is a list inside a list.",
            returncode=2,
        ) from None
    if not isinstance(raw, dict):
        raise CommandError(
            f'{name} must hold a JSON object of question keys and answers, like {{"age": 29}}.',
            returncode=2,
        )
    try:
        return parse_answers(raw, book)
    except ValueError as exc:
        raise CommandError(str(exc), returncode=2) from None
    except RecursionError:
        raise CommandError(f"{name} is nested too deeply to read.", returncode=2) from None


class Command(BaseCommand):
    help = "Evaluate every published route for the answers in a JSON file ('-' reads stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("answers", help="JSON file of answers, or - for standard input")
        parser.add_argument("--on", type=str, help="evaluation date, YYYY-MM-DD (default today)")
        parser.add_argument("--format", choices=["text", "json", "pdf"], default="text")
        parser.add_argument("--output", help="file to write the PDF to (needed with --format pdf)")
        parser.add_argument("--paper", choices=["A4", "letter"], default="A4", help="PDF paper")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["answers"]
        on = evaluation_date(options["on"]) if options["on"] else timezone.localdate()
        if options["format"] == "pdf" and not options["output"]:
            raise CommandError(
                "--format pdf needs --output FILE: a PDF is not written to the terminal.",
                returncode=2,
            )
        if options["format"] != "pdf" and options["output"]:
            raise CommandError(
                "--output is for --format pdf; text and JSON go to standard output.",
                returncode=2,
            )
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot read {name}: {exc.strerror}.", returncode=2) from None
        except UnicodeDecodeError:
            raise CommandError(f"{name} is not UTF-8 text.", returncode=2) from None
        book = load_rulebook()
        given = read_answers(text, book, "standard input" if name == "-" else name)
        if options["format"] == "pdf":
            output = Path(options["output"])
            try:
                output.write_bytes(
                    pdf.render_results(pdf.results_for(book, given, on), options["paper"])
                )
            except OSError as exc:
                raise CommandError(
                    f"Cannot write {output}: {exc.strerror}.", returncode=2
                ) from None
            self.stdout.write(f"Wrote {output}.")
            return
        results = engine.evaluate_routes(book, given, on)
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(report.as_json(results, book, on), indent=2, ensure_ascii=False)
            )
        else:
            self.stdout.write(report.as_text(results, book, on), ending="")
