"""The real Harvest client wired to an in-process sandbox seeded with the demo organisation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.executor import Executor
from reconciler.harvest import HarvestClient, HarvestReader, Settings
from reconciler.sandbox import Sandbox
from tests.support import FakeClock

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "sandbox-seed.json"

SETTINGS = Settings(
    client_id="demo-client",
    client_secret="demo-secret",
    user_id="1001",
    api_url="http://127.0.0.1",
    token_url="http://127.0.0.1/token",
)


def seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED.read_text())
    return data


class Rig:
    """A seeded sandbox, a fake clock, and clients that talk to it in-process."""

    def __init__(self, seed_data: dict[str, Any] | None = None, **sandbox_kwargs: Any) -> None:
        self.clock = FakeClock()
        self.sandbox = Sandbox(seed_data if seed_data is not None else seed(), clock=self.clock.time, **sandbox_kwargs)

    def reader(self) -> HarvestReader:
        return HarvestReader(SETTINGS, transport=self.sandbox.transport(), clock=self.clock.time, sleep=self.clock.sleep)

    def client(self) -> HarvestClient:
        return HarvestClient(SETTINGS, transport=self.sandbox.transport(), clock=self.clock.time, sleep=self.clock.sleep)

    def executor(self, **kwargs: Any) -> Executor:
        """An executor writing through a fresh client, sleeping on the fake clock."""
        return Executor(self.client(), clock=self.clock.time, sleep=self.clock.sleep, **kwargs)

    def writes(self) -> list[tuple[str, str, Any]]:
        return [(r.method, r.path, r.body) for r in self.sandbox.writes()]
