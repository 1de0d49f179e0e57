"""What changed between two published revisions of a route, in the words advisers use: a gate
by its pathway, question and operator, a value by its dates, a fact by its topic, a next step
by its place."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eligibility.catalogue import ROUTE_FIELDS


@dataclass(frozen=True)
class Change:
    where: str  # "Route", "Gate “standard · offered_salary ≥”, value from 2027-01-01"
    what: str  # a field name, or "added" / "removed"
    old: str
    new: str


def _text(value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _gate_key(gate: dict[str, Any]) -> str:
    conditions = json.dumps(gate.get("applies_if") or [], sort_keys=True, default=str)
    return f"{gate.get('pathway', '')}|{gate['question']}|{gate['operator']}|{conditions}"


def _gate_name(gate: dict[str, Any]) -> str:
    pathway = gate.get("pathway") or "every pathway"
    condition = " (with a condition)" if gate.get("applies_if") else ""
    return f"Gate “{pathway} · {gate['question']} {gate['operator']}”{condition}"


def _span(value: dict[str, Any]) -> str:
    start = value.get("effective_from") or "the start"
    end = value.get("effective_until")
    return f"value from {start}" + (f" to {end}" if end else "")


def _fields(
    where: str, old: dict[str, Any], new: dict[str, Any], names: Iterable[str]
) -> list[Change]:
    return [
        Change(where, name, _text(old.get(name)), _text(new.get(name)))
        for name in names
        if old.get(name) != new.get(name)
    ]


def _keyed(items: list[dict[str, Any]], key: Any) -> dict[str, dict[str, Any]]:
    keyed: dict[str, dict[str, Any]] = {}
    for item in items:
        name = str(key(item))
        while name in keyed:  # two items with the same identity: keep both, in order
            name += "'"
        keyed[name] = item
    return keyed


def _added_removed(
    where: str, old: dict[str, Any] | None, new: dict[str, Any] | None, summary: Any
) -> list[Change]:
    if old is None and new is not None:
        return [Change(where, "added", "—", summary(new))]
    if new is None and old is not None:
        return [Change(where, "removed", summary(old), "—")]
    return []


def _value_summary(value: dict[str, Any]) -> str:
    shown = _text(value.get("value"))
    if value.get("certainty", "settled") != "settled":
        shown = f"{value['certainty']}" + (f" ({shown})" if shown != "—" else "")
    return shown


def _source_text(source: dict[str, Any] | None) -> str:
    if not source:
        return "—"
    about = "about " if source.get("as_of_approximate") else ""
    return (
        f"{source.get('title', '')} ({source.get('url', '')}), as of {about}{source.get('as_of')}"
    )


def _source_change(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    if old.get("source") == new.get("source"):
        return []
    return [
        Change(where, "source", _source_text(old.get("source")), _source_text(new.get("source")))
    ]


def _value_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes = _fields(where, old, new, ("value", "certainty", "effective_until", "note"))
    return changes + _source_change(where, old, new)


def changes(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Change]:
    """Every difference between two snapshots (catalogue entries) of one route. A draft's
    own slug is not a change: publishing keeps the route's."""
    if old is None:
        return [Change("Route", "published", "—", new.get("name", ""))]
    found = _fields("Route", old, new, [n for n in ROUTE_FIELDS if n != "slug"])
    old_gates = _keyed(old.get("requirements") or [], _gate_key)
    new_gates = _keyed(new.get("requirements") or [], _gate_key)
    for key in [*old_gates, *(k for k in new_gates if k not in old_gates)]:
        before, after = old_gates.get(key), new_gates.get(key)
        gate = after or before
        assert gate is not None
        where = _gate_name(gate)
        found += _added_removed(
            where, before, after, lambda g: "; ".join(_value_summary(v) for v in g["values"])
        )
        if before is None or after is None:
            continue
        found += _fields(where, before, after, ("points", "points_group", "explanation"))
        old_values = _keyed(before["values"], lambda v: v.get("effective_from") or "")
        new_values = _keyed(after["values"], lambda v: v.get("effective_from") or "")
        for start in [*old_values, *(k for k in new_values if k not in old_values)]:
            was, now = old_values.get(start), new_values.get(start)
            value = now or was
            assert value is not None
            place = f"{where}, {_span(value)}"
            found += _added_removed(place, was, now, _value_summary)
            if was is not None and now is not None:
                found += _value_changes(place, was, now)
    for kind, topic_key in (("key_facts", "Key fact"), ("open_questions", "Open question")):
        old_items = _keyed(old.get(kind) or [], lambda item: item["topic"])
        new_items = _keyed(new.get(kind) or [], lambda item: item["topic"])
        for topic in [*old_items, *(k for k in new_items if k not in old_items)]:
            was, now = old_items.get(topic), new_items.get(topic)
            place = f"{topic_key} “{topic.rstrip(chr(39))}”"
            found += _added_removed(place, was, now, lambda item: item["text"])
            if was is not None and now is not None:
                found += _fields(place, was, now, ("text", "unclear", "show_if"))
                found += _source_change(place, was, now)
    return found + _next_step_changes(old.get("next_steps") or [], new.get("next_steps") or [])


def _next_step_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[Change]:
    """Steps are read in order, so they are compared by place: "Next step 2", text."""
    found: list[Change] = []
    for number in range(1, max(len(old), len(new)) + 1):
        was = old[number - 1] if number <= len(old) else None
        now = new[number - 1] if number <= len(new) else None
        place = f"Next step {number}"
        found += _added_removed(place, was, now, lambda step: step["text"])
        if was is not None and now is not None:
            found += _fields(place, was, now, ("text", "url"))
            found += _source_change(place, was, now)
    return found
