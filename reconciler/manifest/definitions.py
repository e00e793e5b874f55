"""The declarative vocabulary the sections are defined in, and how a definition becomes JSON Schema.

A section is an `ObjectDef`: its keys (`Prop`), each with a description (shown by editors through the
generated schema), a JSON Schema fragment for its value, whether it is required, and, for custom
fields, which `field_type`s accept it. `sections.py` holds one such definition per section; the
schema, the key suggestions and the type-specific checks are all derived from them, so adding a key
is one edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: A name: any string with at least one non-blank character.
NAME_PATTERN = r"\S"
#: A custom field key (the API's name_key): no whitespace.
KEY_PATTERN = r"^\S+$"
#: An email address, loosely: something@something, no whitespace.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"

#: What a failed `pattern` means, in words.
PATTERN_MESSAGES: Mapping[str, str] = {
    NAME_PATTERN: "must not be empty or blank",
    KEY_PATTERN: "must not be empty or contain spaces",
    EMAIL_PATTERN: "is not an email address",
}

NAME: Mapping[str, Any] = {"type": "string", "minLength": 1, "pattern": NAME_PATTERN}
BOOLEAN: Mapping[str, Any] = {"type": "boolean"}


def nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The same schema, also accepting null."""
    kind = schema["type"]
    kinds = list(kind) if isinstance(kind, list) else [kind]
    return {**schema, "type": [*kinds, "null"]}


def list_of(items: Mapping[str, Any], unique: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "array", "items": dict(items)}
    if unique:
        out["uniqueItems"] = True
    return out


def one_of_words(words: tuple[str, ...]) -> dict[str, Any]:
    return {"type": "string", "enum": list(words)}


def ref(def_name: str) -> dict[str, Any]:
    return {"$ref": f"#/$defs/{def_name}"}


@dataclass(frozen=True)
class Prop:
    """One key of a manifest object."""

    name: str
    description: str
    #: JSON Schema of the value, without its description.
    schema: Mapping[str, Any]
    required: bool = False
    #: Custom fields only: the field_types that accept this key (None = every field_type).
    field_types: frozenset[str] | None = None
    #: An identity of the object (its presence lets objects share a name, or is how it is matched):
    #: an item whose value here has a schema error is left out of the semantic checks, not checked
    #: without it (reconciler/manifest/build.py).
    identity: bool = False


@dataclass(frozen=True)
class ObjectDef:
    """A manifest object: a mapping with exactly these keys.

    With `shorthand`, a bare string also stands for the object `{shorthand: string}` (candidate tags,
    custom field options); the loader expands it, so `Entry.data` always holds the mapping form.
    """

    name: str
    description: str
    props: tuple[Prop, ...]
    shorthand: str | None = None

    def keys(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.props)

    def get(self, key: str) -> Prop | None:
        return next((p for p in self.props if p.name == key), None)

    def schema(self) -> dict[str, Any]:
        """This object as a JSON Schema (draft 2020-12) fragment."""
        out: dict[str, Any] = {"description": self.description}
        if self.shorthand is not None:
            short = self.get(self.shorthand)
            assert short is not None, f"{self.name}: shorthand key {self.shorthand} is not a property"
            out["type"] = ["string", "object"]
            out.update({k: v for k, v in short.schema.items() if k in ("minLength", "pattern")})
        else:
            out["type"] = "object"
        out["properties"] = {p.name: {"description": p.description, **p.schema} for p in self.props}
        required = [p.name for p in self.props if p.required]
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out


#: A Harvest id: the live object's numeric id (`id:` identity of last resort, and the id form of a reference).
HARVEST_ID: Mapping[str, Any] = {"type": "integer", "minimum": 1}
#: A reference to another manifest object: by name or external id (a string), or by its Harvest id (an
#: integer, written unquoted: `parent: 4012`; a name that looks like a number is quoted, `parent: "2024"`).
REFERENCE: Mapping[str, Any] = {**NAME, "type": ["string", "integer"], "minimum": 1}
#: `previously`: one earlier name or a list of them.
PREVIOUSLY: Mapping[str, Any] = {
    "type": ["string", "array"],
    "minLength": 1,
    "pattern": NAME["pattern"],
    "items": dict(NAME),
    "uniqueItems": True,
}
EMAIL: Mapping[str, Any] = {"type": "string", "minLength": 3, "pattern": EMAIL_PATTERN}


def previously(what: str) -> Prop:
    """The `previously` key of a renamable object (`what` is its noun: "department", "option")."""
    return Prop(
        "previously",
        f"Earlier names of this {what} (a string or a list): a live {what} with one of these names is "
        "renamed to `name` instead of a new one being created.",
        PREVIOUSLY,
    )


def harvest_id(what: str) -> Prop:
    """The `id` key: the identity of last resort of a `what` that no name, external id or key names uniquely.

    Export writes it only then (two live departments named "Sales" without external ids); a user may write
    it too. When given it is the whole identity: the entry matches the live object with this id or nothing
    (a plan error), so a manifest with ids is tied to one organisation.
    """
    return Prop(
        "id",
        f"The live {what}'s Harvest id: the identity of last resort, written by export only when no name or "
        f"external_id names the {what} uniquely. When given it alone decides which live {what} this is; it ties "
        "the manifest to one organisation (replace it by an external_id to make it portable).",
        HARVEST_ID,
        identity=True,
    )
