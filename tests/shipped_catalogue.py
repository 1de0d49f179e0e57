"""The shipped catalogue as `import_routes` leaves it in a migrated database, taken once per
run, so that tests needing it put its rows back instead of importing the file each time."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction

from eligibility import engine, rules


@dataclass(frozen=True)
class ShippedCatalogue:
    """The rows `import_routes` adds for the shipped catalogue, as INSERT statements with
    the values ready for this database (parents first), and the rules they make."""

    inserts: tuple[tuple[str, tuple[tuple[Any, ...], ...]], ...]
    rulebook: engine.RuleBook

    def insert(self) -> None:
        """The rows as the import left them, ids and timestamps included. A rollback rewinds
        neither PostgreSQL's sequences nor SQLite's AUTOINCREMENT below a stored id, so rows
        a test adds afterwards never take one of these ids."""
        with connection.cursor() as cursor:
            for sql, rows in self.inserts:
                cursor.executemany(sql, rows)
        rules.rules_changed()  # as the import's saves would have signalled


def import_and_roll_back() -> ShippedCatalogue:
    """Run `import_routes` on the shipped catalogue, note every row it added to any table
    (the audit log's too), and roll it all back."""
    everything = apps.get_models(include_auto_created=True)
    with transaction.atomic():
        before = {m: set(m._base_manager.values_list("pk", flat=True)) for m in everything}
        call_command("import_routes", stdout=io.StringIO())
        added = {
            model: rows
            for model in everything
            if (rows := list(model._base_manager.exclude(pk__in=before[model]).order_by("pk")))
        }
        rulebook = rules.load_rulebook()
        transaction.set_rollback(True)
    return ShippedCatalogue(
        inserts=tuple(_insert(model, added[model]) for model in _parents_first(added)),
        rulebook=rulebook,
    )


def _insert(
    model: type[models.Model], rows: list[models.Model]
) -> tuple[str, tuple[tuple[Any, ...], ...]]:
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(model._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    values = tuple(
        tuple(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
        for row in rows
    )
    return sql, values


def _parents_first(added: dict[type[models.Model], Any]) -> list[type[models.Model]]:
    ordered: list[type[models.Model]] = []

    def visit(model: type[models.Model]) -> None:
        if model in ordered:
            return
        for field in model._meta.concrete_fields:
            parent = field.related_model
            if field.many_to_one and parent in added and parent is not model:
                visit(parent)
        ordered.append(model)

    for model in added:
        visit(model)
    return ordered
