"""`sandbox serve --option NAME=VALUE`: any SandboxOptions field by name, parsed by the field's type."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from reconciler.cli import cli
from reconciler.sandbox import SandboxOptions
from reconciler.sandbox.option_args import options_from_assignments, settable_fields


def test_values_are_parsed_by_the_fields_type() -> None:
    options = options_from_assignments([
        "bulk_processing_seconds=2.5", "bulk_seed=42", "bulk_shuffle=false", "reject_duplicate_job_permission=No",
        "single_active_token=ON", "default_rate_limit=75/30", "bulk_max_rows=7",
    ])
    assert (options.bulk_processing_seconds, options.bulk_seed, options.bulk_shuffle) == (2.5, 42, False)
    assert (options.reject_duplicate_job_permission, options.single_active_token) == (False, True)
    assert (options.default_rate_limit, options.bulk_max_rows) == ("75/30", 7)
    assert options.bulk_expiry_seconds == SandboxOptions().bulk_expiry_seconds  # untouched fields keep defaults


def test_a_later_assignment_wins_and_none_gives_the_defaults() -> None:
    assert options_from_assignments(["bulk_seed=1", "bulk_seed=2"]).bulk_seed == 2
    assert options_from_assignments([]) == SandboxOptions()


def test_every_plain_field_is_settable() -> None:
    plain = {f.name for f in dataclasses.fields(SandboxOptions) if f.name != "sleep"}
    assert set(settable_fields()) == plain


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("nope=1", "unknown sandbox option 'nope'"),
        ("bulk_seed=abc", "sandbox option bulk_seed: expected an integer, got 'abc'"),
        ("bulk_processing_seconds=soon", "sandbox option bulk_processing_seconds: expected a number"),
        ("bulk_shuffle=maybe", "sandbox option bulk_shuffle: expected true or false, got 'maybe'"),
        ("bulk_seed", "expected NAME=VALUE"),
        ("=1", "expected NAME=VALUE"),
        ("sleep=1", "sandbox option sleep cannot be set from the command line"),
    ],
)
def test_bad_assignments_are_one_line_value_errors(assignment: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        options_from_assignments([assignment])
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(("assignment", "needle"), [("nope=1", "unknown sandbox option 'nope'"),
                                                   ("bulk_seed=abc", "expected an integer"),
                                                   ("default_rate_limit=fast", "bad rate limit")])
def test_the_cli_exits_1_with_the_message(assignment: str, needle: str) -> None:
    result = CliRunner().invoke(cli, ["sandbox", "serve", "--port", "0", "--option", assignment])
    assert result.exit_code == 1
    assert needle in result.output
    assert "Traceback" not in result.output
