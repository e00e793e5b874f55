"""`load(paths) -> Manifest`: every offline check, in order, collecting every problem.

Order and ranks: file-level refusals (0), YAML syntax and duplicate keys (1), the JSON Schema and the
name rules of `names.py` (2), semantic checks (3). A file that cannot be read or parsed contributes no
values. An item with schema errors still takes part in the semantic checks with the keys that have
none (so its duplicate name is reported beside its wrongly typed `parent`), unless what is left lacks
a required key or the item itself is malformed: the checks never see a malformed value, and one
mistake is reported once. Likewise a policy block keeps its good values (a bad limit does not hide a
`prune: enforce` the API cannot do). The result exists only when there is no problem at all.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any

from reconciler.errors import ManifestError, Problem
from reconciler.manifest import names
from reconciler.manifest.build import merge
from reconciler.manifest.checks import check
from reconciler.manifest.files import FileText, discover, read_text
from reconciler.manifest.model import Manifest
from reconciler.manifest.schema import validate
from reconciler.manifest.yamlload import Document, read_yaml
from reconciler.resources.registry import REGISTRY


def load(paths: Sequence[str | os.PathLike[str]]) -> Manifest:
    """Load, merge and validate the manifests under `paths` (files or directories).

    Raises ManifestError carrying every problem found, ranked, one per line.
    """
    with _cyclic_gc_paused():
        return _load(paths)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration (restoring whatever state it had).

    Loading allocates hundreds of thousands of long-lived containers (nodes, values, locations,
    entries) and no reference cycles; the collections those allocations trigger free nothing but
    keep traversing the growing heap, which made up over half of the loading time of a 100k-object
    folder. Memory is unaffected (reference counting frees all but cycles, and none are made; the
    peak RSS of that folder is the same either way); the collector runs again as usual afterwards.

    Before it does, everything is moved to the oldest generation (`freeze` then `unfreeze`, two list
    splices): otherwise the first young collections would still traverse all that loading made (0.2 to
    0.4 s for 100k objects), only to find it alive. Old objects are still collected as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _load(paths: Sequence[str | os.PathLike[str]]) -> Manifest:
    return _load_early(paths, None)


def _digest(texts: Sequence[FileText]) -> str:
    """sha256 over each file's path and bytes, length-prefixed so no two file sets can collide."""
    h = hashlib.sha256()
    for t in texts:
        name = t.display.encode("utf-8", errors="surrogateescape")
        for part in (name, t.data):
            h.update(len(part).to_bytes(8, "big"))
            h.update(part)
    return h.hexdigest()


RawSections = Mapping[str, Sequence[Any]]
"""A parsed (unchecked) file's sections: section name -> its items exactly as the YAML gave them."""


def load_early(paths: Sequence[str | os.PathLike[str]], on_parsed: Callable[[str, RawSections], None]) -> Manifest:
    """`load(paths)`, telling `on_parsed(file, sections)` each file's sections as soon as its YAML is parsed.

    For `plan`, which starts reading the live collections a manifest needs while the rest is still being
    parsed and checked. `on_parsed` is called in file order, before any schema or semantic check, and only
    while no problem has been found (a manifest that already failed will not be planned). Only list-valued
    known sections are passed. The result, and every problem raised (a `ManifestError`, ranked), are
    exactly `load`'s: the same steps run in the same order, this function only adds the calls.
    """
    with _cyclic_gc_paused():
        return _load_early(paths, on_parsed)


def _load_early(
    paths: Sequence[str | os.PathLike[str]], on_parsed: Callable[[str, RawSections], None] | None
) -> Manifest:
    """Every step of loading; with `on_parsed`, each file's sections are also handed over once parsed."""
    files, problems = discover(paths)
    texts: list[FileText] = []
    docs: list[Document] = []
    sections = REGISTRY.views.sections
    for f in files:
        text = read_text(f)
        if isinstance(text, Problem):
            problems.append(text)
            continue
        texts.append(text)
        try:
            doc = read_yaml(text.display, text.text)
        except ManifestError as e:
            problems.extend(e.problems)
            continue
        docs.append(doc)
        if on_parsed is not None and not problems and isinstance(doc.data, dict):
            raw = {s: doc.data[s] for s in sections if isinstance(doc.data.get(s), list)}
            if raw:
                on_parsed(text.display, raw)
    checked = []
    for doc in docs:
        result = validate(doc)
        problems.extend(result.problems)
        problems.extend(names.check(doc, refused=frozenset(p.where for p in result.problems)))
        checked.append((doc, result.bad))
    merged = merge(checked)
    problems.extend(merged.problems)
    problems.extend(check(merged.entries, merged.policy))
    if problems:
        raise ManifestError(problems)
    return Manifest(
        entries=MappingProxyType({s: tuple(merged.entries[s]) for s in REGISTRY.views.sections}),
        policy=merged.policy,
        files=tuple(t.display for t in texts),
        digest=_digest(texts),
        present=frozenset(merged.present),
    )
