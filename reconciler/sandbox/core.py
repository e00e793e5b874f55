"""`Sandbox`: the one request handler behind the in-process transport and the HTTP server.

`handle(method, path, headers, body)` is the whole emulator: admin endpoints (`/_sandbox/...`,
never logged, limited or faulted), the token endpoint (`/token`, logged, never limited or
faulted), and `/v3/...` (rate limit, then faults, then authentication, routing, body parsing,
site-admin check and the handler). It raises `DroppedConnection` for drop faults; everything else
becomes a status, headers and a body. One lock serialises requests; latency faults sleep outside it.
Before each request (and after a `/v3` one) it performs the background bulk work that is due on
its clock (`bulk.catch_up`), so bulk rows appear without anyone polling.
"""

from __future__ import annotations

import copy
import json
import random
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from reconciler.sandbox import bulk, ops_users
from reconciler.sandbox.auth import Grant, OAuthError, TokenIssuer
from reconciler.sandbox.context import Ctx
from reconciler.sandbox.errors import ApiError, DroppedConnection, not_found
from reconciler.sandbox.faults import FaultInjector, FaultSpec, make_rule
from reconciler.sandbox.listing import ListQuery, normalise_query
from reconciler.sandbox.log import LoggedRequest
from reconciler.sandbox.options import SandboxOptions
from reconciler.sandbox.ratelimit import RateLimiter, parse_rate_limit
from reconciler.sandbox.routes import match_write
from reconciler.sandbox.schema import COLLECTIONS
from reconciler.sandbox.store import Store

Response = tuple[int, dict[str, str], bytes]
_REDACTED_FORM_KEYS = {"client_secret", "client_assertion", "password"}


def _json(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    out = {"Content-Type": "application/json"}
    out.update(headers or {})
    return status, out, json.dumps(payload).encode()


def _error(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return _json(error.status, error.body(), headers)


def load_seed_file(path: str | Path) -> Any:
    """Read a seed/state JSON file. Raises ValueError with the file name and the problem."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"cannot read sandbox seed {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"sandbox seed {path} is not valid JSON: {e}") from None


class Sandbox:
    """An in-memory Harvest v3 organisation (see module docstring and docs/sandbox.md)."""

    def __init__(
        self,
        seed: Mapping[str, Any] | None = None,
        *,
        clock: Callable[[], float] = time.time,
        rate_limit: str | tuple[int, float] | None = None,
        faults: str | None = None,
        state_path: str | Path | None = None,
        options: SandboxOptions | None = None,
    ) -> None:
        self.options = options or SandboxOptions()
        self._clock = clock
        self._lock = threading.RLock()
        limit = parse_rate_limit(rate_limit) or parse_rate_limit(self.options.default_rate_limit)
        assert limit is not None
        self._limiter = RateLimiter(limit[0], limit[1], clock, self.options.rate_limit_retry_after_min)
        self._bulk_rng = random.Random(self.options.bulk_seed)  # one per sandbox: reproducible bulk orders
        self._faults = FaultInjector(FaultSpec.parse(faults))
        self.state_path = Path(state_path) if state_path is not None else None
        data: Any = seed if seed is not None else {}
        if self.state_path is not None and self.state_path.exists():
            data = load_seed_file(self.state_path)
        self.store = Store.from_json(data, clock())
        self._tokens = TokenIssuer(self.store, self.options)
        self._log: list[LoggedRequest] = []
        self._counter = 0

    @classmethod
    def from_seed_file(cls, path: str | Path, **kwargs: Any) -> Sandbox:
        return cls(load_seed_file(path), **kwargs)

    def __repr__(self) -> str:
        return f"Sandbox({sum(self.store.count(c) for c in COLLECTIONS)} objects)"

    # -- test and admin helpers ------------------------------------------------------------------

    def transport(self) -> httpx.BaseTransport:
        from reconciler.sandbox.transport import SandboxTransport

        return SandboxTransport(self)

    @property
    def log(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def writes(self) -> list[LoggedRequest]:
        return [r for r in self.log if r.method != "GET" and r.path != "/token"]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    def rows(self, collection: str) -> list[dict[str, Any]]:
        if collection not in COLLECTIONS:
            raise KeyError(f"unknown collection {collection!r}")
        with self._lock:
            self._background()
            table = self.store.rows[collection]
            return [copy.deepcopy(table[i]) for i in sorted(table)]

    def add_fault(self, kind: str | int, *, method: str | None = None, path: str | None = None,
                  nth: int = 1, count: int = 1) -> None:
        """Inject `kind` into the nth matching `/v3` request from now on (and count-1 more)."""
        rule = make_rule(kind, method, path, nth, count)
        with self._lock:
            self._faults.add(rule)

    def save(self) -> None:
        """Persist to `state_path` (atomic). No-op without a state path."""
        if self.state_path is None:
            return
        with self._lock:
            self.store.save(self.state_path)

    # -- the handler -----------------------------------------------------------------------------

    def _background(self) -> None:
        """Catch up with the bulk requests' background work due by now (see `bulk`). Called before
        (and after) every request and by `rows()`, so it looks as if it ran on its own."""
        with self._lock:
            bulk.catch_up(self.store, self.options, self._clock())

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> Response:
        method = method.upper()
        split = urlsplit(raw_path)
        path = split.path or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        pairs = parse_qsl(split.query, keep_blank_values=True)
        hdrs = {k.lower(): v for k, v in headers.items()}
        self._background()
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            with self._lock:
                return self._admin(method, path, hdrs, body)
        if path == "/token":
            with self._lock:
                return self._token(method, path, pairs, hdrs, body)
        if not path.startswith("/v3/"):
            with self._lock:
                response = _error(not_found(f"route {method} {path}"))
                self._record(method, path, pairs, response[0], None)
                return response
        return self._v3(method, path, pairs, hdrs, body)

    def _record(self, method: str, path: str, pairs: list[tuple[str, str]], status: int, body: Any,
                fault: str | None = None, lost_status: int | None = None, latency: float = 0.0) -> None:
        query: dict[str, str] = {}
        for key, value in pairs:
            query[key] = f"{query[key]},{value}" if key in query else value
        self._log.append(LoggedRequest(method, path, query, status, body, fault, lost_status, latency))

    def _headers(self, extra: Mapping[str, str]) -> dict[str, str]:
        self._counter += 1
        return {"X-Request-Id": f"sandbox-{self._counter}", **extra}

    def _token(self, method: str, path: str, pairs: list[tuple[str, str]], hdrs: dict[str, str],
               body: bytes) -> Response:
        """`POST /token`: a token, or an OAuth 2.0 error (RFC 6749 section 5.2; see `auth`)."""
        form = {k: v for k, v in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)}
        logged = {k: ("[redacted]" if k in _REDACTED_FORM_KEYS else v) for k, v in form.items()}
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if method != "POST":
                raise not_found(f"route {method} {path}")
            answer = self._tokens.mint(hdrs.get("authorization"), hdrs.get("content-type", ""), body, self._clock())
            response = _json(200, answer, self._headers(no_store))
        except OAuthError as e:
            response = _json(e.status, e.body(), self._headers({**no_store, **e.headers()}))
        except ApiError as e:
            response = _error(e, self._headers({}))
        self._record(method, path, pairs, response[0], logged)
        return response

    def _v3(self, method: str, path: str, pairs: list[tuple[str, str]], hdrs: dict[str, str],
            body: bytes) -> Response:
        with self._lock:
            key = self._tokens.client_of(hdrs.get("authorization")) or "anonymous"
            allowed, limit_headers = self._limiter.take(key)
            if not allowed:
                error = ApiError(429, "Rate limit exceeded; retry after the Retry-After delay")
                response = _error(error, self._headers(limit_headers))
                self._record(method, path, pairs, 429, _loggable(body))
                return response
            decision = self._faults.decide(method, path)
        if decision.latency > 0:
            self.options.sleep(decision.latency)
        with self._lock:
            kind = decision.kind
            if kind in ("429", "500", "503"):
                extra = dict(limit_headers)
                if kind == "429":
                    extra["Retry-After"] = f"{decision.retry_after:g}"  # 1 -> "1", 0.05 -> "0.05"
                error = ApiError(int(kind), f"Injected fault: HTTP {kind}")
                self._record(method, path, pairs, int(kind), _loggable(body), kind, latency=decision.latency)
                return _error(error, self._headers(extra))
            if kind == "drop_before":
                self._record(method, path, pairs, 0, _loggable(body), kind, latency=decision.latency)
                raise DroppedConnection(committed=False)
            self._background()  # a latency fault may have let the clock move
            try:
                status, headers, payload, logged = self._dispatch(method, path, pairs, hdrs, body)
                self._background()  # work due at once (bulk_processing_seconds=0) is done before the reply
            except Exception:  # a sandbox bug must not kill the server: answer 500 and say why on stderr
                traceback.print_exc(file=sys.stderr)
                status, headers, payload = _error(ApiError(500, "internal sandbox error"))
                logged = _loggable(body)
            headers = self._headers({**limit_headers, **headers})
            if kind == "drop_after":
                self._record(method, path, pairs, 0, logged, kind, lost_status=status, latency=decision.latency)
                raise DroppedConnection(committed=True)
            self._record(method, path, pairs, status, logged, latency=decision.latency)
            return status, headers, payload

    def _dispatch(self, method: str, path: str, pairs: list[tuple[str, str]], hdrs: dict[str, str],
                  body: bytes) -> tuple[int, dict[str, str], bytes, Any]:
        logged = _loggable(body)
        now = self._clock()
        try:
            grant = self._tokens.authenticate(hdrs.get("authorization"), now)
            user = self.store.get("users", grant.user_id)
            admin = bool(user and user["site_admin"] and not user["deactivated"])
            ctx = Ctx(self.store, self.options, now, grant.user_id)
            if method == "GET":
                return (*self._get(ctx, grant, admin, path, pairs, hdrs), logged)
            bulk_route = (method, path) in bulk.BULK_ROUTES
            route = None if bulk_route else match_write(method, path)
            if not bulk_route and route is None:
                raise not_found(f"route {method} {path}")
            data = _parse_body(hdrs, body)
            if not admin:
                raise ApiError(403, "The authorizing user (sub, or the client's service user) is not permitted to make this change",
                               [{"field": "sub", "message": "must be a site admin"}])
            if bulk_route:
                result = bulk.submit(ctx, method, path, data, grant.client_id, self._bulk_rng)
            else:
                assert route is not None
                handler, row_id = route
                result = handler(ctx, row_id, data)
            if result.body is None:
                return result.status, {}, b"", logged
            status, headers, payload = _json(result.status, result.body)
            return status, headers, payload, logged
        except ApiError as e:
            status, headers, payload = _error(e)
            return status, headers, payload, logged

    def _get(self, ctx: Ctx, grant: Grant, admin: bool, path: str, pairs: list[tuple[str, str]],
             hdrs: dict[str, str]) -> Response:
        base = f"{hdrs.get('x-forwarded-proto', 'http')}://{hdrs.get('host', '127.0.0.1')}"
        name = path[len("/v3/"):]
        if name.startswith("bulk_requests/") and name.count("/") == 1:
            if not admin:
                raise ApiError(403, "The authorizing user (sub, or the client's service user) is not permitted to read bulk requests")
            return _json(200, bulk.poll(ctx, name.split("/")[1], grant.client_id, base))
        if name not in COLLECTIONS:
            raise not_found(f"route GET {path}")
        query = ListQuery(self.store, name, normalise_query(pairs, name), self.options.reject_unknown_query_params)
        if not admin:
            return _json(200, [])
        page = query.page(self._visibility(ctx, grant, name, query))
        headers = {}
        if page.next_cursor is not None:
            headers["Link"] = f'<{base}{path}?cursor={page.next_cursor}>; rel="next"'
        return _json(200, page.rows, headers)

    def _visibility(self, ctx: Ctx, grant: Grant, name: str, query: ListQuery) -> Callable[[dict[str, Any]], bool] | None:
        """Rows a list never shows, whatever the filters (reference 1.3, 2.8, 2.9, 2.11)."""
        users = self.store.rows["users"]
        if name == "users" and query.special.get("show_service_accounts") != "true":
            return lambda row: row["primary_email"] != ""
        if name == "user_job_permissions":
            return lambda row: not (users.get(row["user_id"]) or {}).get("site_admin", False)
        if name == "jobs" and self.options.hide_confidential_jobs:
            return lambda row: not row["confidential"]
        if name == "custom_fields" and not self.options.custom_fields_include_inactive and "active" not in query.params:
            return lambda row: bool(row["active"])
        if name == "bulk_requests":
            return bulk.visible_to(ctx, grant.client_id)
        return None

    def _admin(self, method: str, path: str, hdrs: dict[str, str], body: bytes) -> Response:
        route = (method, path)
        ctx = Ctx(self.store, self.options, self._clock(), None)
        if route == ("GET", "/_sandbox/requests"):
            return _json(200, [r.to_json() for r in self._log])
        if route == ("DELETE", "/_sandbox/requests"):
            self._log.clear()
            return 204, {}, b""
        if route == ("GET", "/_sandbox/state"):
            state = self.store.to_json()
            return _json(200, {c: state[c] for c in COLLECTIONS})
        if route == ("POST", "/_sandbox/save"):
            if self.state_path is None:
                return _error(ApiError(409, "the sandbox has no state path"))
            self.store.save(self.state_path)
            return 204, {}, b""
        if route == ("POST", "/_sandbox/verify_email"):
            try:
                data = _parse_body(hdrs, body)
            except ApiError as e:
                return _error(e)
            email = data.get("email") if isinstance(data, dict) else None
            row = ops_users.verify_email(ctx, email) if isinstance(email, str) else None
            return _json(200, row) if row else _error(not_found(f"user email {email!r}"))
        parts = path.split("/")
        if method == "GET" and len(parts) == 5 and parts[2] == "bulk_results" and parts[4].endswith(".json"):
            rows = bulk.results(ctx, parts[3], parts[4][: -len(".json")])
            return _json(200, rows) if rows is not None else _error(not_found("bulk results"))
        return _error(not_found(f"route {method} {path}"))


def _loggable(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _parse_body(hdrs: dict[str, str], body: bytes) -> Any:
    """The JSON body of a write: None when empty; 415 for another content type; 400 if malformed."""
    if not body:
        return None
    content_type = hdrs.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApiError(415, "Unsupported media type: write bodies must be application/json",
                       [{"field": "Content-Type", "message": "must be application/json"}])
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ApiError(400, f"Malformed JSON body: {e}", [{"field": "body", "message": "malformed JSON"}]) from None
