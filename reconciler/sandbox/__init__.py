"""A local Harvest v3 emulator (product spec section 7): state, routes, faults, transport, server.

It models Harvest, not our client: nothing here imports from `reconciler` outside this package.
`Sandbox` is the one implementation behind both `Sandbox.transport()` (in-process, for tests)
and `server.run()` (real HTTP, `greenhouse-reconciler sandbox serve`). See docs/sandbox.md.
"""

from __future__ import annotations

from reconciler.sandbox.core import Sandbox
from reconciler.sandbox.errors import DroppedConnection
from reconciler.sandbox.faults import FaultRule, FaultSpec
from reconciler.sandbox.log import LoggedRequest
from reconciler.sandbox.options import SandboxOptions

__all__ = ["DroppedConnection", "FaultRule", "FaultSpec", "LoggedRequest", "Sandbox", "SandboxOptions"]
