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

Two composers, one answer. PyYAML's pure-Python scanner/parser/composer is the reference: every
message above is worded from what it reports. When PyYAML has its libyaml binding (`CSafeLoader`),
a file is first composed in C (several times faster) and the same builder turns that graph into
values and locations. That fast result is used only when it is sure to be the reference's: libyaml
composed one document without complaint, the text has none of the constructs the two read
differently (`_slow_text`, and the node checks in `_Builder`, found by a differential fuzz of the
two composers), no node is deeper than `FAST_MAX_DEPTH`, and the builder found no problem at all.
Anything else (a syntax error, a duplicate key, a second document, a deep or odd file) is composed
again by the pure-Python path, whose answer is the one given. So libyaml changes timings only,
never a message, a value or a location; without it everything takes the pure-Python path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.errors import RANK_FILE, RANK_SYNTAX, ManifestError, Problem
from reconciler.manifest.model import Source
from reconciler.manifest.text import PathKey, json_path, quote

#: How many values aliases may add to a document beyond the ones written in it.
ALIAS_BUDGET = 10_000
#: Deepest `[`/`{` nesting accepted: PyYAML's scanner is quadratic in it, so a crafted file could stall us.
MAX_FLOW_DEPTH = 100
#: Deepest node (the root's children are at depth 1) of a libyaml composition that is used as is; deeper
#: files take the pure-Python path, so the flow-depth cap and the recursion limit report exactly what they
#: always did. Below MAX_FLOW_DEPTH (a node is at least as deep as its `[`/`{` nesting) and far above the
#: deepest manifest value (about 5).
FAST_MAX_DEPTH = 48

#: libyaml's composer (C), when PyYAML was built with it; None = pure Python only.
#: Text libyaml reads differently from PyYAML (a differential fuzz of the two found these): tabs (libyaml
#: accepts them as separators where PyYAML refuses them), a byte-order mark inside the text (libyaml skips it
#: where PyYAML refuses it or counts it as a column), and a block scalar header running into a comment (`>#`,
#: which only libyaml accepts). Also, as a precaution, `?` written as an indicator (explicit keys, whose empty
#: parts the two place differently). A text with any of them is composed by PyYAML only.
_SLOW_CHARACTERS = ("\t", "\ufeff")
_QUESTION_INDICATOR = re.compile(r"(?:^|[\s\[{,])\?(?:[\s,\[\]{}]|$)")
_BLOCK_HEADER_COMMENT = re.compile(r"[|>][-+0-9]*#")


def _slow_text(text: str) -> bool:
    """Whether `text` has any of the constructs above (plain substring tests first: they are much faster
    than one regex with alternatives over a multi-megabyte file)."""
    return (
        any(c in text for c in _SLOW_CHARACTERS)
        or ("?" in text and _QUESTION_INDICATOR.search(text) is not None)
        or _BLOCK_HEADER_COMMENT.search(text) is not None
    )


_CLoaderBase: type[Any] | None = (
    getattr(yaml, "CSafeLoader", None) if getattr(yaml, "__with_libyaml__", False) else None
)

_CORE = "tag:yaml.org,2002:"
_NULL_TAG = _CORE + "null"
_MAP_TAG = _CORE + "map"
_SEQ_TAG = _CORE + "seq"
_MERGE_TAG = _CORE + "merge"
_SCALAR_TAGS = frozenset(_CORE + t for t in ("str", "int", "float", "bool", "null", "timestamp"))
#: Plain scalars keep the type PyYAML (YAML 1.1) resolves only when YAML 1.2's core schema agrees.
#: So `prune: off`, `external_id: NO` and `active: yes` are strings, as editors (YAML 1.2) show them.
_YAML11_ONLY: dict[str, re.Pattern[str]] = {
    _CORE + "bool": re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    _CORE + "int": re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    _CORE + "float": re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$"),
}


class Loc(NamedTuple):
    """Where a value was written (1-based). `raw` is the text of an unquoted scalar that did not
    become a string (e.g. `400`, `yes`), so messages can suggest quoting it.

    A named tuple, not a dataclass: a file holds one per value, and tuples are much cheaper to make."""

    line: int
    column: int
    raw: str | None = None


@dataclass(frozen=True)
class Document:
    """One file's content as plain Python values, with the location of every value in it."""

    file: str
    data: Any
    locs: Mapping[PathKey, Loc]
    #: Paths of the string values that are not plainly printable: a leading or trailing space, or any
    #: character `str.isprintable` refuses (controls, tabs, line breaks, invisible format characters, spaces
    #: other than U+0020). Few or none in a real file; `names.check` decides which of them are problems.
    odd: tuple[PathKey, ...] = ()

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
    """Compose and build one file. Raises ManifestError with every problem found in it.

    Uses libyaml's composer when it is available and the file is ordinary (see the module docstring),
    else PyYAML's pure-Python one; both give the same Document or the same problems.
    """
    try:
        if _CLoader is not None and not _slow_text(text):
            root = _compose_fast(text)
            if root is not None:
                try:
                    return _build(file, text, root, fast=True)
                except (_Unusual, ManifestError, RecursionError):
                    pass  # the reference path below decides, and words every problem
        root = _compose(file, text)
        if root is None:
            return Document(file, None, {})
        return _build(file, text, root, fast=False)
    except RecursionError:
        raise ManifestError([Problem(RANK_FILE, file, "the YAML is nested too deeply")]) from None


def _build(file: str, text: str, root: Node, fast: bool) -> Document:
    """Values, locations and problems of a composed graph.

    `fast`: the graph is libyaml's; anything that is not ordinary, and any problem, raises `_Unusual`
    instead (see `_Builder`). Without a `&` in the text there is no anchor, hence no alias: the graph is
    a tree and the alias checks have nothing to find."""
    if "&" in text:
        _check_aliases(file, root)
    builder = _Builder(file, fast)
    data = builder.build(root, (), _loc(root), False, False)
    if builder.problems:
        raise ManifestError(builder.problems)
    return Document(file, data, builder.locs, tuple(builder.odd))


class _ImplicitTag(str):
    """A tag chosen by the resolver, i.e. the scalar was written without one. Only such scalars are re-read
    with YAML 1.2 rules (`!!int "7"` and `!!bool yes` mean what their tag says).

    Both composers (PyYAML's and libyaml's) call `resolve` exactly when the node's tag is absent or `!`, so
    marking its answer is how either one tells written tags from resolved ones."""

    __slots__ = ()


_Resolver = yaml.resolver.Resolver
#: PyYAML's implicit resolvers (the safe loaders' table), by first character, with the resolved tags marked.
#: `_MarkImplicit.resolve` walks this table exactly as `BaseResolver.resolve` walks the original; it is copied
#: once because `resolve` runs for every node, in Python even under libyaml.
_FIRST_CHARACTER: dict[str, tuple[tuple[_ImplicitTag, re.Pattern[str]], ...]] = {
    first: tuple((_ImplicitTag(tag), regexp) for tag, regexp in resolvers)
    for first, resolvers in _Resolver.yaml_implicit_resolvers.items()
}
_MARKED: dict[str, _ImplicitTag] = {
    tag: _ImplicitTag(tag)
    for tag in (_Resolver.DEFAULT_SCALAR_TAG, _Resolver.DEFAULT_SEQUENCE_TAG, _Resolver.DEFAULT_MAPPING_TAG)
}
_IMPLICIT_STR, _IMPLICIT_SEQ, _IMPLICIT_MAP = _MARKED.values()
#: The copy is exact only for the table's plain form (no wildcard or path resolvers: PyYAML's safe loaders
#: register none); otherwise `resolve` asks PyYAML and marks its answer.
_PLAIN_TABLE = None not in _Resolver.yaml_implicit_resolvers and not _Resolver.yaml_path_resolvers


class _MarkImplicit:
    """Loader mixin: every resolved tag comes back as an `_ImplicitTag`."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if not _PLAIN_TABLE:  # pragma: no cover - the safe loaders have neither wildcard nor path resolvers
            tag: str = super().resolve(kind, value, implicit)  # type: ignore[misc]
            return _MARKED.setdefault(tag, _ImplicitTag(tag))
        if kind is ScalarNode:
            if implicit[0]:
                for tag, regexp in _FIRST_CHARACTER.get(value[:1], ()):  # value[:1]: "" for the empty scalar
                    if regexp.match(value):
                        return tag
            return _IMPLICIT_STR
        return _IMPLICIT_SEQ if kind is SequenceNode else _IMPLICIT_MAP


class _Loader(_MarkImplicit, yaml.SafeLoader):
    """The safe loader's pure-Python scanner/parser/composer (the reference), refusing absurd flow nesting
    and escapes that are not characters."""

    def scan_flow_scalar_non_spaces(self, double: bool, start_mark: Any) -> list[str]:
        """PyYAML's scan of a quoted scalar's text, with its escapes checked (libyaml refuses all of these, so
        they always come here): `\\U00110000` (beyond U+10FFFF, where PyYAML's `chr` raises ValueError) is
        a located error, a `\\ud83d\\ude00` surrogate pair (JSON's way of writing one character) becomes that
        character, and a lone surrogate (half a pair: no character, and not writable as UTF-8) is an error."""
        try:
            chunks: list[str] = super().scan_flow_scalar_non_spaces(double, start_mark)
        except (ValueError, OverflowError):  # chr() beyond U+10FFFF; OverflowError beyond a C int
            mark = self.get_mark()  # just after the escape's letter: point at its backslash
            at = yaml.Mark(mark.name, mark.index - 2, mark.line, max(mark.column - 2, 0), mark.buffer, mark.pointer)
            raise yaml.scanner.ScannerError(
                None, None, f"the escape \\U{self.prefix(8)} is beyond the last "
                "Unicode character (U+10FFFF)", at
            ) from None
        if double and any("\ud800" <= c[:1] <= "\udfff" for c in chunks):
            try:
                return [_join_surrogates("".join(chunks))]
            except UnicodeError:
                raise yaml.scanner.ScannerError(
                    None, None, "a \\u escape in this string is half of a UTF-16 surrogate pair, not a character: "
                    "write the character itself (or its \\U0001xxxx escape)", start_mark
                ) from None
        return chunks

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:  # noqa: N803 - PyYAML's name
        if self.flow_level >= MAX_FLOW_DEPTH:
            raise yaml.scanner.ScannerError(
                None, None, f"brackets nested more than {MAX_FLOW_DEPTH} levels deep", self.get_mark()
            )
        super().fetch_flow_collection_start(TokenClass)


_CLoader: type[Any] | None = (
    None
    if _CLoaderBase is None
    else type("_CLoader", (_MarkImplicit, _CLoaderBase), {"__doc__": "libyaml's composer, marking tags."})
)


def _compose_fast(text: str) -> Node | None:
    """The root node as libyaml composes it, or None when the pure-Python path must decide: libyaml
    complained (its messages are not ours), or the text is empty or holds a second document."""
    assert _CLoader is not None
    loader = _CLoader(text)
    try:
        if not loader.check_node():
            return None
        root: Node = loader.get_node()
        if loader.check_node():
            return None
    except yaml.YAMLError:
        return None
    finally:
        loader.dispose()
    return root


def _join_surrogates(text: str) -> str:
    """`text` with each UTF-16 surrogate pair made the character it stands for; UnicodeError on a lone one."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")


class _Unusual(Exception):
    """Internal: libyaml's graph is not an ordinary one, or has a problem: the pure-Python path decides."""


def _compose(file: str, text: str) -> Node | None:
    """The root node as PyYAML's pure-Python composer makes it, or the located problem it reports."""
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
        return root
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
    """Turns a composed node graph into plain values, recording locations and problems.

    With `fast` (the graph is libyaml's), the builder also refuses, by raising `_Unusual`, whatever libyaml
    and PyYAML may read differently (the differences a differential fuzz of the two found) and every
    problem, so that such a file is composed again by PyYAML and reported from that:

    * a node deeper than FAST_MAX_DEPTH (PyYAML's flow-depth cap and recursion limit apply there);
    * any explicit tag (libyaml accepts tag spellings PyYAML refuses; explicit tags are rare, and every
      one but the core scalar tags is an error anyway);
    * a plain scalar or key inside `[...]`/`{...}` containing `?` (libyaml keeps `[a?b]` as one string,
      PyYAML reads the `?` as a key indicator);
    * an empty plain scalar anywhere but as an untagged mapping value, and any empty plain key (the two
      place empty nodes at different marks; `a: !` is "" for libyaml and null for PyYAML).

    A refused node may hide further differences in what the builder skips (a value after a duplicate
    key), which is why any problem ends the fast build too.
    """

    def __init__(self, file: str, fast: bool = False) -> None:
        self.file = file
        self.fast = fast
        self.locs: dict[PathKey, Loc] = {}
        self.problems: list[Problem] = []
        self.odd: list[PathKey] = []
        constructor = yaml.constructor.SafeConstructor()
        self._constructors: dict[str, Callable[[ScalarNode], Any]] = {
            _CORE + "null": constructor.construct_yaml_null,
            _CORE + "bool": constructor.construct_yaml_bool,
            _CORE + "int": constructor.construct_yaml_int,
            _CORE + "float": constructor.construct_yaml_float,
        }

    def where(self, loc: Loc, path: PathKey) -> str:
        return f"{self.file}:{loc.line}:{loc.column}: {json_path(path)}"

    def problem(self, problem: Problem) -> None:
        if self.fast:
            raise _Unusual
        self.problems.append(problem)

    def build(self, node: Node, path: PathKey, loc: Loc, in_flow: bool, is_value: bool) -> Any:
        """The value of `node` at `path`, written at `loc`. `in_flow`: its parent is a `[...]`/`{...}`
        collection; `is_value`: it is a mapping value (both matter only to the fast checks)."""
        if self.fast and (len(path) > FAST_MAX_DEPTH or type(node.tag) is not _ImplicitTag):
            raise _Unusual
        if isinstance(node, MappingNode):
            self.locs.setdefault(path, loc)
            if node.tag is not _IMPLICIT_MAP and not self._tag_ok(node, _MAP_TAG, path):
                return None
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            self.locs.setdefault(path, loc)
            if node.tag is not _IMPLICIT_SEQ and not self._tag_ok(node, _SEQ_TAG, path):
                return None
            flow = bool(node.flow_style)
            items = []
            for index, child in enumerate(node.value):
                mark = child.start_mark
                child_loc = Loc(mark.line + 1, mark.column + 1)
                items.append(self.build(child, (*path, index), child_loc, flow, False))
            return items
        assert isinstance(node, ScalarNode)
        text = node.value
        plain = not node.style  # PyYAML writes None for a plain scalar, libyaml ""
        if (
            self.fast
            and plain
            and ((in_flow and "?" in text) or (not text and not (is_value and node.tag == _NULL_TAG)))
        ):
            raise _Unusual
        if node.tag is _IMPLICIT_STR:  # most scalars: an untagged string, nothing to check or convert
            self.locs.setdefault(path, loc)
            if not text.isprintable() or text[:1] == " " or text[-1:] == " ":
                self.odd.append(path)
            return text
        value = self._scalar(node, path)
        if isinstance(value, str) and (not value.isprintable() or value[:1] == " " or value[-1:] == " "):
            self.odd.append(path)
        raw = text if plain and not isinstance(value, str) and value is not None else None
        self.locs.setdefault(path, loc if raw is None else Loc(loc.line, loc.column, raw))
        return value

    def _mapping(self, node: MappingNode, path: PathKey) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first: dict[str, Loc] = {}
        flow = bool(node.flow_style)
        for key_node, value_node in node.value:
            mark = key_node.start_mark
            key_loc = Loc(mark.line + 1, mark.column + 1)
            if not isinstance(key_node, ScalarNode):
                self.problem(
                    Problem(RANK_SYNTAX, self.where(key_loc, path), "a mapping key must be a plain word, not a list or mapping")
                )
                continue
            if self.fast and not key_node.style and ((flow and "?" in key_node.value) or not key_node.value):
                raise _Unusual
            if key_node.tag == _MERGE_TAG:
                self.problem(
                    Problem(RANK_SYNTAX, self.where(key_loc, path), "merge keys (<<) are not supported: write the keys out")
                )
                continue
            key = key_node.value
            at = (*path, key)
            if self.fast and type(key_node.tag) is not _ImplicitTag:
                raise _Unusual
            if key_node.tag is not _IMPLICIT_STR and not self._tag_ok(key_node, None, at):
                continue
            if key in first:
                seen = first[key]
                self.problem(
                    Problem(
                        RANK_SYNTAX,
                        self.where(key_loc, at),
                        f"duplicate key {quote(key)} (first at line {seen.line}, column {seen.column}); "
                        "YAML would silently keep only the last",
                    )
                )
                continue
            first[key] = key_loc
            out[key] = self.build(value_node, at, key_loc, flow, True)
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
        self.problem(Problem(RANK_FILE, self.where(loc, path), message))
        return False

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        if not self._tag_ok(node, None, path):
            return None
        implicit = isinstance(node.tag, _ImplicitTag)
        if implicit and node.tag in _YAML11_ONLY and not _YAML11_ONLY[node.tag].match(node.value):
            return node.value  # YAML 1.2 reads yes/no/on/off, 1:30, 0b1, 1_000 as plain strings
        if implicit and node.tag == _CORE + "int":
            return int(node.value, 16) if node.value.startswith("0x") else int(node.value, 10)  # 010 is ten
        construct = self._constructors.get(node.tag)
        if construct is None:  # str, and timestamps, which stay the text as written
            return node.value
        try:
            return construct(node)
        except (ValueError, KeyError, TypeError, IndexError):  # IndexError: `!!int ""` (PyYAML reads [0])
            loc = _loc(node)
            self.problem(
                Problem(RANK_SYNTAX, self.where(loc, path), f"{quote(node.value)} is not a valid {_short_tag(node.tag)}")
            )
            return None
