"""Offline checks of custom fields: identities, keys the field_type accepts, options, scoping references."""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.errors import RANK_SEMANTIC, Problem
from reconciler.manifest.checks import Checking, by_field, duplicates, renames
from reconciler.manifest.model import Entry, Source
from reconciler.manifest.text import prose_list
from reconciler.resources import departments, offices
from reconciler.resources.custom_fields.definition import (
    CUSTOM_FIELD,
    SELECT_VALUE_TYPES,
    USER_ATTRIBUTE_KEYS,
)
from reconciler.resources.tree_manifest import entries_of


def check(entries: Sequence[Entry], checking: Checking) -> list[Problem]:
    department_tree = entries_of(checking, departments.TREE)
    office_tree = entries_of(checking, offices.TREE)
    out = duplicates(entries, by_field("key"), "custom field key")
    out += duplicates(
        entries,
        lambda e: [((e.data["field_type"], e.data["name"]), "name", e.data["name"])],
        "custom field name",
        "names are unique within a field_type",
    )
    out += renames(entries, "custom field", group=lambda e: e.data["field_type"])
    for entry in entries:
        out += _field_keys(entry)
        out += department_tree.references(entry, "departments", "department")
        out += office_tree.references(entry, "offices", "office")
        option_sources = _option_sources(entry)
        options = [
            Entry("options", o, entry.at(f"options[{j}]"), option_sources.get(j, {}))
            for j, o in enumerate(entry.data.get("options") or [])
        ]
        # An option entry with `id` is matched by id alone, so its name may repeat another option's.
        out += duplicates([o for o in options if o.data.get("id") is None], by_field("name"), "option name")
        out += duplicates(options, by_field("external_id"), "option external_id")
        out += duplicates(options, by_field("id"), "option id")
        out += renames(options, "option")
    return out


def _option_sources(entry: Entry) -> dict[int, dict[str, Source]]:
    """Per option index, the locations below that option, relative to it (`options[2].name` -> `name`).

    One pass over the field's sources (not one per option: that was quadratic in the options).
    """
    out: dict[int, dict[str, Source]] = {}
    for rel, source in entry.sources.items():
        if not rel.startswith("options["):
            continue
        close = rel.find("]", 8)
        if close < 0 or not rel[8:close].isdigit() or rel[close + 1 : close + 2] != ".":
            continue
        out.setdefault(int(rel[8:close]), {})[rel[close + 2 :]] = source
    return out


def _field_keys(entry: Entry) -> list[Problem]:
    """Keys the field's field_type or value_type does not accept."""
    out: list[Problem] = []
    field_type, value_type = entry.data["field_type"], entry.data["value_type"]
    for key in entry.data:
        prop = CUSTOM_FIELD.get(key)
        if prop is None or prop.field_types is None or field_type in prop.field_types:
            continue
        if field_type == "user_attribute":
            why = f"they accept only {prose_list(USER_ATTRIBUTE_KEYS)}"
        else:
            why = f"only on {prose_list(sorted(prop.field_types))} fields"
        out.append(Problem(RANK_SEMANTIC, str(entry.at(key)), f"{key} is not accepted on {field_type} fields ({why})"))
    if "options" in entry.data and value_type not in SELECT_VALUE_TYPES:
        out.append(
            Problem(
                RANK_SEMANTIC,
                str(entry.at("options")),
                f"options are only for single_select and multi_select fields (this field's value_type is {value_type})",
            )
        )
    return out
