"""Safe YAML reading that remembers where every value was written.

PyYAML's loaders lose positions, keep the last of two duplicate keys silently and (outside the safe
loader) run constructors named by tags. So this module composes the node graph with the safe
loader's parser and builds plain Python values itself:

* every mapping member is located at its key, every list item at the item (1-based line/column);
* duplicate mapping keys are errors (rank 1), naming both places;
* only the YAML core tags are accepted (str, int, float, bool, null, seq, map; implicit timestamps
  stay strings): `!!python/...` and custom tags are refused (rank 0), never constructed;
* aliases may add at most `ALIAS_BUDGET` values beyond those written (the cost is measured on the
  node graph in linear time before anything is expanded), so "billion laughs" bombs and recursive
  aliases are refused (rank 0);
* merge keys (`<<`) and multi-document files are refused (rank 1); keys are the text as written
  (so `no:` is the key "no", not False);
* untagged scalars follow YAML 1.2 (what editors show): only true/false are booleans and only
  decimal/0x numbers are integers, so `prune: off`, `external_id: NO` and `010` mean what they say;
* `[`/`{` nesting deeper than `MAX_FLOW_DEPTH` is refused before PyYAML's quadratic scan of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.model import Source
from reconciler.manifest.text import PathKey, json_path, quote

RANK_FILE = 0
RANK_SYNTAX = 1

#: How many values aliases may add to a document beyond the ones written in it.
ALIAS_BUDGET = 10_000
#: Deepest `[`/`{` nesting accepted: PyYAML's scanner is quadratic in it, so a crafted file could stall us.
MAX_FLOW_DEPTH = 100

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
#: Plain scalars keep the type PyYAML (YAML 1.1) resolves only when YAML 1.2's core schema agrees.
#: So `prune: off`, `external_id: NO` and `active: yes` are strings, as editors (YAML 1.2) show them.
_YAML11_ONLY: dict[str, re.Pattern[str]] = {
    _CORE + "bool": re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    _CORE + "int": re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    _CORE + "float": re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
}


@dataclass(frozen=True)
class Loc:
    """Where a value was written (1-based). `raw` is the text of an unquoted scalar that did not
    become a string (e.g. `400`, `yes`), so messages can suggest quoting it."""

    line: int
    column: int
    raw: str | None = None


@dataclass(frozen=True)
class Document:
    """One file's content as plain Python values, with the location of every value in it."""

    file: str
    data: Any
    locs: Mapping[PathKey, Loc]

    def source(self, path: PathKey) -> Source:
        """The location of the value at `path`, or of its nearest located ancestor."""
        probe = tuple(path)
        while probe and probe not in self.locs:
            probe = probe[:-1]
        loc = self.locs.get(probe, Loc(1, 1))
        return Source(self.file, loc.line, loc.column, json_path(path))

    def where(self, path: PathKey) -> str:
        return str(self.source(path))


def read_yaml(file: str, text: str) -> Document:
    """Compose and build one file. Raises ManifestError with every problem found in it."""
    try:
        root, explicit = _compose(file, text)
        if root is None:
            return Document(file, None, {})
        _check_aliases(file, root)
        builder = _Builder(file, explicit)
        data = builder.build(root, (), _loc(root))
    except RecursionError:
        raise ManifestError([Problem(RANK_FILE, file, "the YAML is nested too deeply")]) from None
    if builder.problems:
        raise ManifestError(builder.problems)
    return Document(file, data, dict(builder.locs))


class _Loader(yaml.SafeLoader):
    """The safe loader's scanner/parser/composer, refusing absurd flow nesting early."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        #: ids of the scalar nodes written with an explicit tag
        self.explicit: set[int] = set()

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= MAX_FLOW_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, f"brackets nested more than {MAX_FLOW_DEPTH} levels deep", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)  # type: ignore[misc]

    def compose_scalar_node(self, anchor: Any) -> ScalarNode:
        """Also remember which scalars carry an explicit tag (`!!int "7"`): only untagged ones are re-read
        with YAML 1.2 rules."""
        event = self.peek_event()
        node: ScalarNode = super().compose_scalar_node(anchor)
        if event.tag not in (None, "!"):
            self.explicit.add(id(node))
        return node


def _compose(file: str, text: str) -> tuple[Node | None, set[int]]:
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        root = loader.get_node() if loader.check_node() else None
        if root is not None and loader.check_node():
            extra = loader.get_node()
            mark = extra.start_mark if extra is not None else None
            where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
            raise ManifestError(
                [Problem(RANK_SYNTAX, where, "a manifest file holds one YAML document; remove the extra \"---\"")]
            )
        return root, loader.explicit
    except yaml.reader.ReaderError as e:
        line, column = _text_position(text, e.position)
        raise ManifestError(
            [
                Problem(
                    RANK_FILE,
                    f"{file}:{line}:{column}",
                    f"unacceptable character #x{e.character if isinstance(e.character, int) else ord(e.character):04x} "
                    "(control characters are not allowed in YAML): is this a binary file?",
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as e:
        raise ManifestError([_syntax_problem(file, e)]) from None
    except yaml.YAMLError as e:  # pragma: no cover - PyYAML raises only the two kinds above for str input
        raise ManifestError([Problem(RANK_SYNTAX, file, f"YAML error: {e}")]) from None
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_problem(file: str, e: yaml.MarkedYAMLError) -> Problem:
    mark = e.problem_mark or e.context_mark
    where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark is not None else file
    problem = (e.problem or "invalid YAML").strip()
    if "'\\t'" in problem or "\t" in problem:
        message = "YAML syntax error: a tab character here; use spaces (YAML forbids tabs in indentation)"
        return Problem(RANK_SYNTAX, where, message)
    message = f"YAML syntax error: {problem}"
    if "<block end>" in problem or "mapping values are not allowed" in problem:
        message += "; check the indentation"
    if e.context and e.context_mark is not None and e.context_mark is not mark:
        message += f" ({e.context.strip()} at line {e.context_mark.line + 1}, column {e.context_mark.column + 1})"
    elif e.context:
        message += f" ({e.context.strip()})"
    return Problem(RANK_SYNTAX, where, message)


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _loc(node: Node, raw: str | None = None) -> Loc:
    return Loc(node.start_mark.line + 1, node.start_mark.column + 1, raw)


def _check_aliases(file: str, root: Node) -> None:
    """Refuse recursive aliases and aliases that would expand the document beyond the budget."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            loc = _loc(node)
            raise ManifestError(
                [Problem(RANK_FILE, f"{file}:{loc.line}:{loc.column}", "recursive YAML alias: a value contains itself")]
            )
        active.add(key)
        total = 1
        if isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        active.discard(key)
        sizes[key] = total
        return total

    expanded = size(root)
    extra = expanded - len(sizes)
    if extra > ALIAS_BUDGET:
        raise ManifestError(
            [
                Problem(
                    RANK_FILE,
                    file,
                    f"YAML aliases would add {extra} values (the limit is {ALIAS_BUDGET}): "
                    "refusing a possible alias bomb; write the values out",
                )
            ]
        )


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


class _Builder:
    """Turns a composed node graph into plain values, recording locations and problems."""

    def __init__(self, file: str, explicit: set[int]) -> None:
        self.file = file
        self.explicit = explicit
        self.locs: dict[PathKey, Loc] = {}
        self.problems: list[Problem] = []
        self._constructor = yaml.constructor.SafeConstructor()

    def where(self, loc: Loc, path: PathKey) -> str:
        return f"{self.file}:{loc.line}:{loc.column}: {json_path(path)}"

    def build(self, node: Node, path: PathKey, loc: Loc) -> Any:
        if isinstance(node, MappingNode):
            self.locs.setdefault(path, loc)
            if not self._tag_ok(node, _CORE + "map", path):
                return None
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self.locs.setdefault(path, loc)
            if not self._tag_ok(node, _CORE + "seq", path):
                return None
            items = []
            for index, child in enumerate(node.value):
                items.append(self.build(child, (*path, index), _loc(child)))
            return items
        assert isinstance(node, ScalarNode)
        value = self._scalar(node, path)
        raw = node.value if node.style is None and not isinstance(value, str) and value is not None else None
        self.locs.setdefault(path, Loc(loc.line, loc.column, raw))
        return value

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, Loc] = {}
        for key_node, value_node in node.value:
            key_loc = _loc(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.append(
                    Problem(RANK_SYNTAX, self.where(key_loc, path), "a mapping key must be a plain word, not a list or mapping")
                )
                continue
            if key_node.tag == _CORE + "merge":
                self.problems.append(
                    Problem(RANK_SYNTAX, self.where(key_loc, path), "merge keys (<<) are not supported: write the keys out")
                )
                continue
            key = key_node.value
            if not self._tag_ok(key_node, None, (*path, key)):
                continue
            if key in first:
                seen = first[key]
                self.problems.append(
                    Problem(
                        RANK_SYNTAX,
                        self.where(key_loc, (*path, key)),
                        f"duplicate key {quote(key)} (first at line {seen.line}, column {seen.column}); "
                        "YAML would silently keep only the last",
                    )
                )
                continue
            first[key] = key_loc
            out[key] = self.build(value_node, (*path, key), key_loc)
        return out

    def _tag_ok(self, node: Node, expected: str | None, path: PathKey) -> bool:
        tag = node.tag or ""
        if expected is not None and tag == expected:
            return True
        if expected is None and tag in _SCALAR_TAGS:
            return True
        loc = _loc(node)
        shown = _short_tag(tag)
        if tag.startswith(_CORE + "python/"):
            message = f"unsafe YAML tag {shown} refused: manifests are plain data and never construct objects"
        else:
            message = f"unsupported YAML tag {shown}: manifests use plain strings, numbers, booleans, lists and mappings"
        self.problems.append(Problem(RANK_FILE, self.where(loc, path), message))
        return False

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        if not self._tag_ok(node, None, path):
            return None
        constructors: dict[str, Callable[[ScalarNode], Any]] = {
            _CORE + "null": self._constructor.construct_yaml_null,
            _CORE + "bool": self._constructor.construct_yaml_bool,
            _CORE + "int": self._constructor.construct_yaml_int,
            _CORE + "float": self._constructor.construct_yaml_float,
        }
        implicit = id(node) not in self.explicit
        if implicit and node.tag in _YAML11_ONLY and not _YAML11_ONLY[node.tag].match(node.value):
            return node.value  # YAML 1.2 reads yes/no/on/off, 1:30, 0b1, 1_000 as plain strings
        if implicit and node.tag == _CORE + "int":
            return int(node.value, 16) if node.value.startswith("0x") else int(node.value, 10)  # 010 is ten
        construct = constructors.get(node.tag)
        if construct is None:  # str, and timestamps, which stay the text as written
            return node.value
        try:
            return construct(node)
        except (ValueError, KeyError, TypeError):
            loc = _loc(node)
            self.problems.append(
                Problem(RANK_SYNTAX, self.where(loc, path), f"{quote(node.value)} is not a valid {_short_tag(node.tag)}")
            )
            return None
