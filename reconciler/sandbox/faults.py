"""Deterministic fault injection for `/v3` requests (never `/token` or `/_sandbox`).

Grammar (items separated by commas; see docs/sandbox.md):

    seed=INT                      random seed for the probabilistic items (default 0)
    rate429=P rate500=P rate503=P drop_before=P drop_after=P
                                  probability in [0, 1] that a request gets that fault
    latency=P:DURATION            probability and delay, DURATION like 200ms, 1.5s or 2
    retry_after=SECONDS           Retry-After of injected 429s (default 1; a fraction such as 0.05
                                  is sent as written, for fast tests)
    draws=sequence|request        where a request's two random draws come from: one generator for the
                                  whole stream of requests (default), or derived from the seed, the
                                  request's method and path and how many requests with that method and
                                  path came before it (faults then do not depend on how requests to
                                  other paths interleave, e.g. on how often a bulk request was polled)
    KIND[xCOUNT]@[METHOD ]PATH[#NTH]
                                  targeted rule: the NTH matching request (default 1) and the
                                  COUNT-1 following ones (default 1) get KIND; a request matches
                                  when its method equals METHOD (any if omitted) and its path
                                  starts with PATH. KIND: 429, 500, 503, drop_before,
                                  drop_after, latency:DURATION.

Targeted rules win over probabilistic faults. Each `/v3` request consumes exactly two random
draws (fault, latency), so a given seed and request sequence always give the same faults; with
`draws=request`, a given seed and sequence of requests to each method and path do.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass, field

KINDS = ("429", "500", "503", "drop_before", "drop_after")
DRAWS = ("sequence", "request")
"""The values of `draws=`: one generator for all requests, or draws derived per request."""
_RATE_KEYS = {"rate429": "429", "rate500": "500", "rate503": "503", "drop_before": "drop_before",
              "drop_after": "drop_after"}
_RULE = re.compile(
    r"^(?P<kind>429|500|503|drop_before|drop_after|latency:[^x@]+)(?:x(?P<count>\d+))?@"
    r"(?:(?P<method>[A-Z]+)\s+)?(?P<path>/\S*?)(?:#(?P<nth>\d+))?$"
)


def parse_duration(text: str) -> float:
    """`200ms` -> 0.2, `1.5s` -> 1.5, `2` -> 2.0 (seconds). Raises ValueError."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*", text)
    if not match:
        raise ValueError(f"bad duration {text!r}: use e.g. 200ms or 1.5s")
    value = float(match.group(1))
    return value / 1000.0 if match.group(2) == "ms" else value


@dataclass(frozen=True)
class FaultRule:
    """A targeted fault: requests number `nth` .. `nth + count - 1` among those matching."""

    kind: str
    method: str | None = None
    path: str = "/"
    nth: int = 1
    count: int = 1
    latency: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)


@dataclass(frozen=True)
class FaultSpec:
    """A parsed `--faults` value."""

    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    latency_rate: float = 0.0
    latency: float = 0.0
    retry_after: float = 1
    rules: tuple[FaultRule, ...] = ()
    draws: str = "sequence"

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """Parse the grammar above. Raises ValueError with a message naming the bad item."""
        if spec is None or not spec.strip():
            return cls()
        seed, latency_rate, latency = 0, 0.0, 0.0
        retry_after: float = 1
        draws = "sequence"
        rates: dict[str, float] = {}
        rules: list[FaultRule] = []
        for raw in spec.split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                if "@" in item:
                    rules.append(_rule(item))
                    continue
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValueError("expected key=value or KIND@[METHOD ]PATH")
                if key == "seed":
                    seed = int(value)
                elif key == "retry_after":
                    retry_after = float(value)
                    if retry_after.is_integer():
                        retry_after = int(retry_after)
                    if not 0 <= retry_after < float("inf"):
                        raise ValueError("must be a finite number of seconds, not negative")
                elif key == "draws":
                    if value not in DRAWS:
                        raise ValueError(f"must be one of {', '.join(DRAWS)}")
                    draws = value
                elif key == "latency":
                    rate, sep2, duration = value.partition(":")
                    if not sep2:
                        raise ValueError("expected latency=P:DURATION")
                    latency_rate, latency = _probability(rate), parse_duration(duration)
                elif key in _RATE_KEYS:
                    rates[_RATE_KEYS[key]] = _probability(value)
                else:
                    raise ValueError(f"unknown key {key!r}")
            except ValueError as e:
                raise ValueError(f"bad --faults item {item!r}: {e}") from None
        if sum(rates.values()) > 1.0:
            raise ValueError("bad --faults spec: the fault rates add up to more than 1")
        return cls(seed, rates, latency_rate, latency, retry_after, tuple(rules), draws)


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise ValueError("probability must be between 0 and 1")
    return value


def _rule(item: str) -> FaultRule:
    match = _RULE.match(item)
    if not match:
        raise ValueError("expected KIND[xCOUNT]@[METHOD ]PATH[#NTH], e.g. 429x3@GET /v3/departments")
    return make_rule(match.group("kind"), match.group("method"), match.group("path"),
                     int(match.group("nth") or 1), int(match.group("count") or 1))


def make_rule(kind: str | int, method: str | None, path: str | None, nth: int, count: int) -> FaultRule:
    """Validate and build a targeted rule (used by the parser and by `Sandbox.add_fault`)."""
    text = str(kind)
    latency = 0.0
    if text.startswith("latency:"):
        latency = parse_duration(text.partition(":")[2])
        text = "latency"
    elif text not in KINDS:
        raise ValueError(f"unknown fault kind {text!r} (use {', '.join(KINDS)} or latency:DURATION)")
    if nth < 1 or count < 1:
        raise ValueError("nth and count must be at least 1")
    return FaultRule(text, method.upper() if method else None, path or "/", nth, count, latency)


@dataclass(frozen=True)
class Decision:
    """What happens to one request: an injected fault kind (or None) and a delay in seconds."""

    kind: str | None
    latency: float
    retry_after: float


class FaultInjector:
    """Applies a FaultSpec (plus rules added later) to the stream of `/v3` requests."""

    def __init__(self, spec: FaultSpec) -> None:
        self.spec = spec
        self._rng = random.Random(spec.seed)
        self._rules: list[FaultRule] = list(spec.rules)
        self._seen: list[int] = [0] * len(self._rules)
        self._per_path: dict[tuple[str, str], int] = {}  # draws=request: requests seen per (method, path)

    def add(self, rule: FaultRule) -> None:
        self._rules.append(rule)
        self._seen.append(0)

    def _draws(self, method: str, path: str) -> tuple[float, float]:
        """Two uniform draws in [0, 1): the next two of the generator, or (draws=request) two derived from
        sha256(seed, method, path, n) for the n-th request with this method and path."""
        if self.spec.draws != "request":
            return self._rng.random(), self._rng.random()
        n = self._per_path.get((method, path), 0) + 1
        self._per_path[(method, path)] = n
        digest = hashlib.sha256(f"{self.spec.seed}\0{method}\0{path}\0{n}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0**64, int.from_bytes(digest[8:16], "big") / 2.0**64

    def decide(self, method: str, path: str) -> Decision:
        draw, latency_draw = self._draws(method, path)
        kind: str | None = None
        delay = self.spec.latency if latency_draw < self.spec.latency_rate else 0.0
        for i, rule in enumerate(self._rules):
            if not rule.matches(method, path):
                continue
            self._seen[i] += 1
            if kind is None and rule.nth <= self._seen[i] < rule.nth + rule.count:
                if rule.kind == "latency":
                    delay = max(delay, rule.latency)
                else:
                    kind = rule.kind
        if kind is None:
            edge = 0.0
            for name in KINDS:
                edge += self.spec.rates.get(name, 0.0)
                if draw < edge:
                    kind = name
                    break
        return Decision(kind, delay, self.spec.retry_after)
