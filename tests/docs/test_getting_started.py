"""docs/getting-started.md: every command in it is run or, when it needs a real account, parsed by the CLI.

The ```sh blocks are taken in document order. The block after `<!-- sandbox-server -->` is started as the
sandbox server (on a free port instead of 8765: the port is the only thing substituted, in every block);
every other unmarked block runs, all in one bash script with `set -e` in an empty temporary folder, so
each command must succeed and the exports of one block hold for the next, as in a terminal. Blocks after
`<!-- not-run: ... -->` need a real account or the network: each `greenhouse-reconciler` line in them is
parsed by the real click command, so an unknown option or command fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from reconciler.cli import cli
from tests.ci.runner import base_environment, shim

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "getting-started.md"
PORT = "8765"


@dataclass(frozen=True)
class Block:
    marker: str  # "", "sandbox-server" or "not-run: <why>"
    text: str
    line: int


def blocks() -> list[Block]:
    lines = DOC.read_text().splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            previous = next((lines[j].strip() for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            marker = m.group(1).strip() if (m := re.fullmatch(r"<!--(.*)-->", previous)) else ""
            end = lines.index("```", i + 1)
            found.append(Block(marker, "\n".join(lines[i + 1:end]) + "\n", i + 1))
            i = end
        i += 1
    return found


def commands(block: Block) -> Iterator[list[str]]:
    """The `greenhouse-reconciler` invocations of a block, without redirections, pipes or comments."""
    for raw in block.text.splitlines():
        words = shlex.split(raw, comments=True)
        if words and words[0] == "greenhouse-reconciler":
            cut = next((k for k, w in enumerate(words) if w in (">", ">>", "|", "&&", ";")), len(words))
            yield words[1:cut]


def parse(words: list[str]) -> click.Command:
    """Parse an invocation with the real commands (no callback runs); a usage error fails the test."""
    command: click.Command = cli
    parent = None
    name = "greenhouse-reconciler"
    while isinstance(command, click.Group):
        split = next(k for k, w in enumerate(words) if not w.startswith("-"))
        ctx = command.make_context(name, [*words[:split], words[split]], parent=parent)
        name, words = words[split], words[split + 1:]
        sub = command.get_command(ctx, name)
        assert sub is not None, f"no command {name!r}"
        command, parent = sub, ctx
    command.make_context(name, words, parent=parent)
    return command


def test_the_page_has_a_sandbox_walkthrough_and_real_account_commands() -> None:
    found = blocks()
    assert [b.marker for b in found].count("sandbox-server") == 1
    run = [b for b in found if not b.marker]
    assert len(run) >= 6 and any("apply --plan plan.json --yes" in b.text for b in run)
    assert any(b.marker.startswith("not-run: needs a real account") for b in found)
    assert all(b.marker in ("", "sandbox-server") or b.marker.startswith("not-run:") for b in found)


def test_every_not_run_command_is_a_valid_invocation() -> None:
    checked = 0
    for block in blocks():
        if block.marker.startswith("not-run:"):
            for words in commands(block):
                parse(words)
                checked += 1
    assert checked >= 7


def test_the_parser_rejects_an_unknown_option_so_the_check_above_means_something() -> None:
    with pytest.raises(click.UsageError):
        parse(["plan", "org/", "--no-such-option"])
    with pytest.raises(click.UsageError):
        parse(["--no-such-global", "plan"])
    assert parse(["-v", "plan", "org/", "--only", "department"]).name == "plan"


@pytest.mark.e2e
def test_the_sandbox_walkthrough_runs_from_an_empty_folder(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    env = base_environment(shim(tmp_path / "bin"))
    work = tmp_path / "work"
    work.mkdir()
    found = blocks()
    server_at = next(i for i, b in enumerate(found) if b.marker == "sandbox-server")
    before = [b for b in found[:server_at] if not b.marker]
    after = [b for b in found[server_at + 1:] if not b.marker]

    def script(part: list[Block]) -> str:
        body = "".join(f"echo '>>> block at line {b.line}' >&2\n{b.text.replace(PORT, port)}" for b in part)
        return "set -e\n" + body

    first = subprocess.run(["bash", "-c", script(before)], cwd=work, env=env, capture_output=True, text=True,
                           timeout=120)
    assert first.returncode == 0, first.stderr
    (server_words,) = list(commands(found[server_at]))
    assert server_words == ["sandbox", "serve", "--seed", "sandbox-seed.json", "--port", PORT]
    server = subprocess.Popen(["greenhouse-reconciler", *[w.replace(PORT, port) for w in server_words]],
                              cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr is not None
        assert "listening on" in server.stderr.readline()
        proc = subprocess.run(["bash", "-c", script(after)], cwd=work, env=env, capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_sandbox/state", timeout=10) as resp:  # noqa: S310
            state = json.loads(resp.read())
    finally:
        server.terminate()
        server.wait(timeout=10)
        if server.stderr is not None:
            server.stderr.close()
    departments = {d["name"]: d for d in state["departments"]}
    assert departments["Platform"]["parent_id"] == departments["Engineering"]["id"]
    assert "Silver medalist" in {t["name"] for t in state["candidate_tags"]}
    assert "greenhouse-reconciler plan manifest_digest=" in (work / "plan.md").read_text()
    assert json.loads((work / "plan.json").read_text())["changes"]
    for name in ("greenhouse-reconciler-complete.bash", "greenhouse-reconciler-complete.zsh",
                 "greenhouse-reconciler.fish"):
        assert "_GREENHOUSE_RECONCILER_COMPLETE" in (work / name).read_text()
    # and the walkthrough's last command, `plan org/ --detailed-exitcode`, exited 0 (set -e): converged
