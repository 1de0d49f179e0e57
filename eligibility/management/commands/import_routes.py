"""python manage.py import_routes [PATH] [--replace] [--actor USERNAME]

Loads a catalogue file. Every rule it adds or changes is in the audit log under the adviser
named by --actor (an active user), or else under the operating-system user who ran it."""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from auditlog.context import set_actor, set_extra_data
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from eligibility.answers import shortened
from eligibility.catalogue import CATALOGUE_PATH, CatalogueError, import_catalogue


def adviser(username: str) -> AbstractBaseUser:
    """The active user of that name, or a usage error (exit status 2)."""
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(**{get_user_model().USERNAME_FIELD: username}).first()
    if found is None:
        raise CommandError(
            "Nothing was loaded. --actor: no active user has the username "
            f"“{shortened(username, 20)}”.",
            returncode=2,
        )
    return found


def os_user() -> str:
    """The operating-system account running the command, as user@host."""
    try:
        user = getpass.getuser()
    except OSError:  # no login name and no password entry, as in some containers
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()}"[:254]


@contextlib.contextmanager
def audited_as(user: AbstractBaseUser | None) -> Iterator[None]:
    """Log entries made inside name `user` as their actor; without one, the operating-system
    user in the entry's actor e-mail (what the Log entries page shows for no actor)."""
    context = set_actor(user) if user is not None else set_extra_data({"actor_email": os_user()})
    with context:
        yield


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
        parser.add_argument(
            "--actor",
            metavar="USERNAME",
            help="the adviser the audit log names for this import (default: the "
            "operating-system user running it)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = adviser(options["actor"]) if options["actor"] is not None else None
        try:
            text = Path(options["path"]).read_text(encoding="utf-8")
            with audited_as(actor):
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
