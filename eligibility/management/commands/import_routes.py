from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eligibility.catalogue import CATALOGUE_PATH, CatalogueError, import_catalogue


class Command(BaseCommand):
    help = (
        "Load questions, routes and scenarios from a catalogue file. Those that already exist "
        "are skipped, so advisers' edits are kept, unless --replace is given."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", default=str(CATALOGUE_PATH))
        parser.add_argument(
            "--replace",
            action="store_true",
            help="replace existing routes of the same slug and scenarios of the same name",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = Path(options["path"]).read_text(encoding="utf-8")
            result = import_catalogue(text, replace=options["replace"])
        except OSError as exc:
            raise CommandError(
                f"Cannot read {options['path']}: {exc.strerror}.", returncode=2
            ) from None
        except CatalogueError as exc:
            raise CommandError(f"Nothing was loaded. {exc}", returncode=2) from None
        out = self.stdout
        out.write(
            f"Loaded {len(result.routes_created)} route(s), "
            f"{len(result.questions_created)} question(s) and "
            f"{len(result.scenarios_created)} scenario(s)."
        )
        if result.routes_replaced:
            out.write(
                f"Replaced {len(result.routes_replaced)} route(s): "
                f"{', '.join(result.routes_replaced)}."
            )
        if result.routes_skipped:
            out.write(
                f"Skipped {len(result.routes_skipped)} route(s) that already exist (kept as "
                f"they are): {', '.join(result.routes_skipped)}."
            )
        if result.routes_edited:
            out.write(
                f"  Of these, {len(result.routes_edited)} differ from the file (edited since, "
                f"or loaded from another file): {', '.join(result.routes_edited)}. "
                "Use --replace to load the file's version."
            )
        if result.questions_skipped:
            out.write(
                f"Skipped {len(result.questions_skipped)} question(s) that already exist "
                f"({len(result.questions_skipped) - len(result.questions_edited)} the same as "
                f"in the file, {len(result.questions_edited)} different, kept as they are)."
            )
            if options["verbosity"] > 1:
                out.write("  " + ", ".join(result.questions_skipped))
        if result.scenarios_replaced:
            out.write(f"Replaced {len(result.scenarios_replaced)} scenario(s).")
        if result.scenarios_skipped:
            out.write(
                f"Skipped {len(result.scenarios_skipped)} scenario(s) that already exist "
                f"({len(result.scenarios_skipped) - len(result.scenarios_edited)} the same as "
                f"in the file, {len(result.scenarios_edited)} different, kept as they are)."
            )
            if result.scenarios_edited and options["verbosity"] > 1:
                out.write("  Different: " + "; ".join(result.scenarios_edited))
