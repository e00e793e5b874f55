"""The package layout the architecture doc promises, checked on the source itself.

* A resource type's knowledge lives in `reconciler/resources/`: outside it (and the sandbox, which models
  Harvest, not our client) no product module names a registered type, collection, list path or manifest
  key of a family in its code (docstrings and comments may).
* The sandbox imports nothing from the rest of the package: it models Harvest v3 from the reference,
  never from our client's code.
* Every package says what it exports (`__all__`), and every name it lists exists.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler
from reconciler.resources.registry import REGISTRY

ROOT = Path(reconciler.__file__).parent
#: Words that shared machinery legitimately speaks of although a family also uses them as a manifest key:
#: every renamable object has a `name` and may have `previously`; JSON Schema has `description` and
#: `required`; a plan change has a `key`.
GENERIC_KEYS = frozenset({"name", "previously", "id", "description", "required", "key"})


def _modules(under: Path) -> Iterator[Path]:
    yield from sorted(p for p in under.rglob("*.py") if "__pycache__" not in p.parts)


def _code_strings(path: Path) -> Iterator[tuple[int, str]]:
    """String constants of a module's code: docstrings are left out (they explain, they do not decide)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


def _type_words() -> set[str]:
    views = REGISTRY.views
    words = set(views.types) | set(views.collections) | set(views.sections)
    words |= {c.path for c in views.collections.values()}
    for family in views.families:
        for definition in (family.definition, *family.nested):
            words |= set(definition.keys()) - GENERIC_KEYS
            words.add(definition.name)
    return words


def test_outside_resources_and_the_sandbox_no_module_names_a_resource_type() -> None:
    words = _type_words()
    found = []
    for path in _modules(ROOT):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in ("resources", "sandbox"):
            continue
        for line, text in _code_strings(path):
            hits = sorted(w for w in words if w == text or (w.startswith("/v3/") and w in text))
            if hits:
                found.append(f"reconciler/{relative}:{line}: {text!r} names {', '.join(hits)}")
    assert found == []


def test_the_type_word_list_is_not_empty_so_the_scan_above_means_something() -> None:
    words = _type_words()
    assert {"department", "custom_field_options", "/v3/users", "job_permissions"} <= words


def test_the_sandbox_imports_nothing_from_the_rest_of_the_package() -> None:
    found = []
    for path in _modules(ROOT / "sandbox"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("reconciler") and not name.startswith("reconciler.sandbox"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    assert found == []


def _packages() -> list[str]:
    out = ["reconciler"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="reconciler."):
        if info.ispkg:
            out.append(info.name)
    return sorted(out)


@pytest.mark.parametrize("package", _packages())
def test_every_package_lists_its_exports_and_they_exist(package: str) -> None:
    module = importlib.import_module(package)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list | tuple) and exported, f"{package} has no __all__"
    assert len(set(exported)) == len(exported), f"{package}.__all__ repeats a name"
    missing = [name for name in exported if not hasattr(module, name)]
    assert missing == []
