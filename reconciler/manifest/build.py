"""From validated documents to `Entry` values and the merged `Policy` (normalisation and merging).

Normalisation is the contract `model.py` states: only written keys; shorthand strings expanded to
`{"name": ...}` (candidate tags, custom field options); `previously` always a list; everything else
exactly as written (user emails keep their case; `parent: null` stays None). Sections are merged in
file order; policy values may come from several files, but one value set twice is an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from reconciler.errors import RANK_SEMANTIC, Problem
from reconciler.manifest.definitions import ObjectDef
from reconciler.manifest.model import Entry, Limits, Policy, Source
from reconciler.manifest.schema import Bad
from reconciler.manifest.sections import definitions, section_defs
from reconciler.manifest.text import PathKey, json_path
from reconciler.manifest.yamlload import Document, Loc
from reconciler.resources.registry import REGISTRY


@dataclass
class Merged:
    """The merged content of every usable document."""

    entries: dict[str, list[Entry]] = field(default_factory=lambda: {s: [] for s in REGISTRY.views.sections})
    present: set[str] = field(default_factory=set)
    policy: Policy = field(default_factory=Policy)
    problems: list[Problem] = field(default_factory=list)


def merge(docs: Iterable[tuple[Document, frozenset[Bad]]]) -> Merged:
    """Entries of every section and the merged policy, leaving out what has schema errors (`bad`).

    An item with errors below some of its keys is kept without those keys (so the semantic checks still
    see its name and its good references), unless a required key is among them; an item that is itself
    malformed, a malformed section or policy block, is left out."""
    out = Merged()
    policy = _PolicyBuilder()
    for doc, bad in docs:
        if not isinstance(doc.data, dict) or "*" in bad:
            continue
        by_item = _locs_by_item(doc)
        paths = _PathText()
        broken: set[tuple[str, int, str]] = {b for b in bad if isinstance(b, tuple) and len(b) == 3}
        for section in REGISTRY.views.sections:
            if section not in doc.data:
                continue
            out.present.add(section)
            items = doc.data[section]
            if section in bad or not isinstance(items, list):
                continue
            for index, item in enumerate(items):
                if (section, index) in bad:
                    continue
                if isinstance(item, dict) and broken:
                    item = _without_bad_keys(section, index, item, broken)
                    if item is None:
                        continue
                nested = by_item[(section, index)]
                out.entries[section].append(_entry(doc, section, index, item, nested, paths))
        if "policy" in doc.data and "policy" not in bad and isinstance(doc.data["policy"], dict):
            policy.add(doc, doc.data["policy"], bad)
    out.policy, out.problems = policy.result()
    return out


def _without_bad_keys(
    section: str, index: int, item: dict[str, Any], broken: set[tuple[str, int, str]]
) -> dict[str, Any] | None:
    """The item without its keys that have schema errors; None when one of them is required, or an identity
    (`Prop.identity`: a key whose presence lets objects share a name or be matched, so leaving it out could
    invent a duplicate)."""
    bad_keys = {key for key in item if (section, index, key) in broken}
    if not bad_keys:
        return item
    definition = section_defs()[section]
    if any((p.required or p.identity) and p.name in bad_keys for p in definition.props):
        return None
    return {k: v for k, v in item.items() if k not in bad_keys}


def _locs_by_item(doc: Document) -> Mapping[tuple[Any, Any], list[tuple[PathKey, Loc]]]:
    grouped: dict[tuple[Any, Any], list[tuple[PathKey, Loc]]] = defaultdict(list)
    for path, loc in doc.locs.items():
        if len(path) >= 3:
            grouped[(path[0], path[1])].append((path[2:], loc))
    return grouped


class _PathText:
    """`json_path` / `relative_path` text of many paths, from each step's text, made once per step.

    A 100k-object folder has hundreds of thousands of located values; formatting each path from scratch
    (twice: relative and absolute) was most of the merge. The text of a path is the concatenation of its
    steps' fragments (`.key`, `[3]`, `["odd key"]`), which is exactly what `json_path` writes; a relative
    path drops the dot of a leading plain key, as `relative_path` does."""

    def __init__(self) -> None:
        self._fragments: dict[Any, str] = {}

    def fragment(self, step: Any) -> str:
        text = self._fragments.get(step)
        if text is None:
            text = self._fragments[step] = json_path((step,))[1:]
        return text

    def steps(self, path: PathKey) -> str:
        """The path's steps as `json_path` writes them after its root (non-empty path)."""
        fragment = self.fragment
        return "".join([fragment(step) for step in path])


def _relative(steps: str) -> str:
    """`relative_path` of a path from its `_PathText.steps` text."""
    return steps[1:] if steps.startswith(".") else steps


def _copy(value: Any) -> Any:
    """A copy of a loaded value: new dicts and lists, the same (immutable) scalars. Equal to
    `copy.deepcopy` here, since a loaded document shares no container between two places (the YAML
    builder builds every alias anew), and several times faster."""
    if type(value) is dict:
        return {k: _copy(v) for k, v in value.items()}
    if type(value) is list:
        return [_copy(v) for v in value]
    return value


def _entry(
    doc: Document, section: str, index: int, item: Any, nested: list[tuple[PathKey, Loc]], paths: _PathText
) -> Entry:
    base: PathKey = (section, index)
    source = doc.source(base)
    prefix = source.path  # json_path(base)
    file = doc.file
    sources: dict[str, Source] = {}
    for rel, loc in nested:
        steps = paths.steps(rel)
        sources[_relative(steps)] = Source(file, loc.line, loc.column, prefix + steps)
    shorthand = section_defs()[section].shorthand
    if isinstance(item, str) and shorthand is not None:
        data: dict[str, Any] = {shorthand: item}
        sources[shorthand] = Source(source.file, source.line, source.column, prefix + paths.fragment(shorthand))
    else:
        data = _copy(item)
    _listify_previously(data)
    for key, nested_def in _nested_lists(section):
        if not isinstance(data.get(key), list):
            continue
        expanded = []
        for j, value in enumerate(data[key]):
            if isinstance(value, str) and nested_def.shorthand is not None:
                short = nested_def.shorthand
                written = doc.locs.get((*base, key, j))
                at: Loc | Source = doc.source((*base, key, j)) if written is None else written
                steps = paths.fragment(key) + paths.fragment(j) + paths.fragment(short)
                sources[f"{key}[{j}].{short}"] = Source(file, at.line, at.column, prefix + steps)
                value = {short: value}
            if isinstance(value, dict):
                _listify_previously(value)
            expanded.append(value)
        data[key] = expanded
    return Entry(section, data, source, MappingProxyType(sources))


_NESTED: dict[tuple[int, str], tuple[tuple[str, ObjectDef], ...]] = {}


def _nested_lists(section: str) -> tuple[tuple[str, ObjectDef], ...]:
    """The section item's list-valued keys whose items are objects with a shorthand or `previously`
    (custom field `options`): their items are normalised like top-level items. Cached per registry state."""
    REGISTRY.views  # noqa: B018 - loads the catalog first
    cache = (REGISTRY.generation, section)
    found = _NESTED.get(cache)
    if found is None:
        by_name = {d.name: d for d in definitions()}
        out = []
        for prop in section_defs()[section].props:
            target = prop.schema.get("items", {}).get("$ref", "") if prop.schema.get("type") == "array" else ""
            nested_def = by_name.get(target.rsplit("/", 1)[-1]) if target else None
            if nested_def is not None and (nested_def.shorthand is not None or nested_def.get("previously")):
                out.append((prop.name, nested_def))
        found = _NESTED[cache] = tuple(out)
    return found


def _listify_previously(data: dict[str, Any]) -> None:
    if isinstance(data.get("previously"), str):
        data["previously"] = [data["previously"]]


class _PolicyBuilder:
    """Collects `policy:` blocks from several files; one value set in two places is an error."""

    def __init__(self) -> None:
        self.prune: dict[str, str] = {s: "report" for s in REGISTRY.views.sections}
        self.protect: dict[str, list[str]] = {s: [] for s in REGISTRY.views.sections}
        self.limits: dict[str, Any] = {}
        self.sources: dict[str, Source] = {}
        self.problems: list[Problem] = []

    def _claim(self, key: str, at: Source) -> bool:
        first = self.sources.get(key)
        if first is not None:
            self.problems.append(
                Problem(
                    RANK_SEMANTIC,
                    str(at),
                    f"policy.{key} is set twice (also at {first.file}:{first.line}:{first.column})",
                )
            )
            return False
        self.sources[key] = at
        return True

    def add(self, doc: Document, block: Mapping[str, Any], bad: frozenset[Bad] = frozenset()) -> None:
        """One file's policy block, without the parts with schema errors (`bad`), so a bad limit does not
        hide a `prune: enforce` the API cannot do."""

        def good(name: str) -> dict[str, Any]:
            part = block.get(name)
            if f"policy.{name}" in bad or not isinstance(part, dict):
                return {}
            return {k: v for k, v in part.items() if f"policy.{name}.{k}" not in bad}

        for section, mode in good("prune").items():
            if self._claim(f"prune.{section}", doc.source(("policy", "prune", section))):
                self.prune[section] = mode
        for section, names in good("protect").items():
            self.sources.setdefault(f"protect.{section}", doc.source(("policy", "protect", section)))
            for j, name in enumerate(names):
                k = len(self.protect[section])
                self.sources[f"protect.{section}[{k}]"] = doc.source(("policy", "protect", section, j))
                self.protect[section].append(name)
        for key, value in good("limits").items():
            if self._claim(f"limits.{key}", doc.source(("policy", "limits", key))):
                self.limits[key] = value

    def result(self) -> tuple[Policy, list[Problem]]:
        defaults = Limits()
        limits = Limits(
            max_deletes=int(self.limits.get("max_deletes", defaults.max_deletes)),
            max_change_percent=float(self.limits.get("max_change_percent", defaults.max_change_percent)),
        )
        policy = Policy(
            prune=MappingProxyType(dict(self.prune)),
            protect=MappingProxyType({s: tuple(v) for s, v in self.protect.items()}),
            limits=limits,
            sources=MappingProxyType(dict(self.sources)),
        )
        return policy, self.problems
