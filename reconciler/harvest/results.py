"""The typed answer of a single write, shared by the client that makes it and the code that reads it.

Kept apart from `client` so that `bulk` and the executor can name the type without importing the
HTTP machinery's module (and without an import cycle: `client` imports `bulk`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WriteResult:
    """A successful (2xx) write: its status and parsed JSON body.

    `body` is what `responses.decode_body` made of the answer: parsed JSON, None for an empty body
    (e.g. 204) or a body that is not text, the text itself when it is not JSON.
    """

    status: int
    body: Any

    def body_id(self) -> Any:
        """The `id` of the object in the body, None when the body is not an object or has none."""
        return self.body.get("id") if isinstance(self.body, Mapping) else None
