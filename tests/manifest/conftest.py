"""Every manifest test runs twice: with libyaml's composer (when PyYAML has it) and with PyYAML's pure-Python
one, so both readers are held to the same messages, locations and values, and the pure-Python fallback is
exercised even where libyaml is installed.

A test module that compares the two itself, or does not read YAML, sets `ONE_COMPOSER = True` and runs
once, as installed."""

from __future__ import annotations

import pytest

from reconciler.manifest import yamlload


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "yaml_composer" in metafunc.fixturenames:
        one = getattr(metafunc.module, "ONE_COMPOSER", False)
        metafunc.parametrize("yaml_composer", ["as-installed"] if one else ["libyaml", "pure-python"], indirect=True)


@pytest.fixture(autouse=True)
def yaml_composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which composer `read_yaml` may use in this test: "libyaml" (first, falling back as it always does),
    "pure-python" (libyaml treated as missing) or "as-installed"."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlload, "_CLoader", None)
    elif request.param == "libyaml" and yamlload._CLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)
