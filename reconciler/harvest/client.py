"""The Harvest v3 client: a GET-only reader for planning, and a writing client for applying.

Contract (see docs/harvest-client.md for the reasons):
- `HarvestReader` can only send GETs (plus the token request); a request hook refuses anything else.
- Lists follow the `Link: rel="next"` URL exactly as given; filters and `per_page` go on the first
  request only, because the cursor embeds them and Harvest answers 422 to a cursor with company.
- 429 is retried for every method (the server refused before processing), after `Retry-After`, else
  until `X-RateLimit-Reset`, else after a back-off. GETs are also retried on 500/502/503/504 and on
  transport errors. A write whose outcome is unknown (sent, then no reliable answer) is never
  repeated: it raises `OutcomeUnknownError` at once and the caller re-reads.
- Every exception names `METHOD /path` (never the query) and contains no secret. A request that got no
  answer also names where it went (`GET https://host/v3/path`), and connection failures that retrying
  cannot fix (refused, DNS, TLS: `policy.unfixable`) fail at once, naming `host:port` and the setting.
- `-v` (INFO) logs each exchange (hooks), every retry and wait with its reason and length; a wait of
  `console.LONG_WAIT` seconds or more is logged at NOTICE, which the CLI always shows (except `-q`).
- httpx owns the transport: without an injected one, it reads the environment (`trust_env`:
  HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY, SSL_CERT_FILE, SSL_CERT_DIR), except that loopback
  hosts (the sandbox) are mounted direct, so a proxy in the environment never intercepts them. An
  injected transport (the in-process sandbox, `httpx.MockTransport`) is used as it is.
- Thread-safe. Counting, rate-limit waits (`policy.RateLimitGate`, which counts the requests in flight
  against the window's remaining budget) and the read-only guard are httpx event hooks (`hooks.ClientHooks`).
  Retries are not: a hook cannot send a request again, so the retry loop is `_exchange` below.
"""

from __future__ import annotations

import builtins
import json as jsonlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Self

import httpx

from reconciler.errors import (
    ApiError,
    AuthError,
    HarvestError,
    OutcomeUnknownError,
    TransportError,
    UsageError,
)

from . import bulk as _bulk
from .auth import ClientCredentialsAuth, TokenError
from .hooks import ClientHooks, RequestHook, same_origin
from .policy import (
    RETRYABLE_GET_STATUSES,
    Backoff,
    RateLimitGate,
    describe,
    log_wait,
    nothing_was_sent,
    reset_wait,
    retry_after,
    unfixable,
)
from .responses import Redactor, decode_body, error_detail, next_link
from .results import WriteResult
from .settings import USER_AGENT, Settings, is_loopback_host

log = logging.getLogger(__name__)

MAX_PER_PAGE = 500
"""Harvest's per_page maximum (default there is 100) [2nd]."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Always reached directly, whatever proxy the environment names (the API and token hosts too, when
they are loopback addresses: plain http is allowed only there, i.e. towards the local sandbox)."""


class HarvestReader:
    """GET-only. The planner gets one of these: it has no method that can send a write.

    Thread-safe: the concurrent reads of a plan share one reader (one connection pool, one token, one
    rate-limit gate). `auth=` and `gate=` let several clients of one process share the token and the
    rate-limit window too (the CLI passes the same ones to `apply`'s reader and writing client, so the
    run mints one token); without them each client has its own.
    """

    _writes_allowed: ClassVar[bool] = False

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        max_retries: int = 6,
        per_page: int = MAX_PER_PAGE,
        on_request: RequestHook | None = None,
        rng: random.Random | None = None,
        auth: ClientCredentialsAuth | None = None,
        gate: RateLimitGate | None = None,
    ) -> None:
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise UsageError(f"per_page must be between 1 and {MAX_PER_PAGE}, got {per_page}")
        if max_retries < 0:
            raise UsageError(f"max_retries must be >= 0, got {max_retries}")
        if timeout <= 0:
            raise UsageError(f"timeout must be > 0 seconds, got {timeout}")
        self._settings = settings
        self._clock = clock
        self._sleep = sleep
        self._max_retries = max_retries
        self._per_page = per_page
        self._backoff = Backoff(rng)
        #: Set by a connection failure retrying cannot fix: later requests fail at once with the same message.
        self._unreachable: str | None = None
        #: The API server's clock minus `clock`, from the `Date` header of its latest answer that had a usable
        #: one (`bulk.clock_offset`); None until then. Written by any thread: each value is a valid estimate.
        self._server_offset: float | None = None
        if auth is not None and auth.settings != settings:
            raise UsageError("the shared auth was made for other Harvest settings")
        self._api = httpx.URL(settings.api_url)
        self._auth = auth if auth is not None else ClientCredentialsAuth(
            settings, clock=clock, redact=Redactor([settings.client_secret]), sleep=sleep, rng=rng)
        self._redact = self._auth.redactor
        self._gate = gate if gate is not None else RateLimitGate(clock)
        self._hooks = ClientHooks(
            api_url=self._api,
            token_url=httpx.URL(settings.token_url),
            gate=self._gate,
            sleep=sleep,
            read_only=not self._writes_allowed,
            on_request=on_request,
        )
        try:
            self._http = httpx.Client(
                transport=transport,
                mounts=None if transport is not None else _direct_mounts(self._api, httpx.URL(settings.token_url)),
                trust_env=True,
                auth=self._auth,
                timeout=httpx.Timeout(timeout),
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                follow_redirects=False,
                event_hooks=self._hooks.event_hooks(),
            )
        except (ValueError, ImportError) as exc:  # a proxy URL httpx cannot use (bad scheme, socks without socksio)
            raise UsageError("the proxy named by HTTPS_PROXY, HTTP_PROXY or ALL_PROXY cannot be used: "
                             + self._redact(describe(exc))) from None
        except OSError as exc:  # ssl.SSLError and FileNotFoundError are OSErrors
            raise UsageError("the CA certificates named by SSL_CERT_FILE or SSL_CERT_DIR cannot be loaded: "
                             + self._redact(describe(exc))) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(api_url={self._settings.api_url!r}, client_id={self._settings.client_id!r})"

    # -- reading -------------------------------------------------------------------------------

    def list(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every row of a list endpoint, page by page, in the server's order.

        `params` (lists comma-joined, bools as true/false) and `per_page` go on the first request
        only; every following request is exactly the previous response's `Link: rel="next"` URL.
        """
        first = self._url(path, absolute_ok=False)
        query = self._first_query(params)
        return self._pages(first, query)

    def list_all(self, path: str, params: Mapping[str, Any] | None = None) -> builtins.list[dict[str, Any]]:
        return builtins.list(self.list(path, params))

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """One GET: parsed JSON, None for an empty body, the text when the body is not JSON."""
        response = self._exchange("GET", self._url(path_or_url, absolute_ok=True), params=_encode(params or {}))
        return decode_body(response)

    @property
    def request_count(self) -> int:
        """HTTP requests sent to the API (the token endpoint not counted), retries included."""
        return self._hooks.api_requests

    @property
    def token_count(self) -> int:
        """Token requests sent."""
        return self._hooks.token_requests

    @property
    def server_offset(self) -> float | None:
        """Seconds the API server's clock is ahead of this client's `clock` (negative: behind), from the HTTP
        `Date` header (RFC 9110 section 6.6.1) of the API's latest answer that carried exactly one parseable
        one; None when none has. Never later than the true offset (see `bulk.clock_offset`). Answers from
        other hosts (the token endpoint, a bulk failure file) are not used: their clocks are not the API's."""
        return self._server_offset

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _pages(self, url: httpx.URL, query: dict[str, str]) -> Iterator[dict[str, Any]]:
        seen: set[str] = set()
        params: dict[str, str] | None = query
        while True:
            response = self._exchange("GET", url, params=params)
            rows = decode_body(response)
            if not isinstance(rows, list):
                raise ApiError("GET", url.path, response.status_code,
                               f"expected a JSON array from a list endpoint, got {type(rows).__name__}")
            for row in rows:
                if not isinstance(row, dict):
                    raise ApiError("GET", url.path, response.status_code,
                                   f"expected objects in the list, got {type(row).__name__}")
                yield row
            following = next_link(response)
            if following is None:
                return
            if str(following) in seen:
                raise ApiError("GET", url.path, response.status_code, "pagination loop: the next link repeats")
            seen.add(str(following))
            url, params = following, None

    def _first_query(self, params: Mapping[str, Any] | None) -> dict[str, str]:
        query = _encode(params or {})
        if "cursor" in query:
            if len(query) > 1:
                others = ", ".join(sorted(k for k in query if k != "cursor"))
                raise UsageError(f"cursor must be the only query parameter (Harvest answers 422); also got {others}")
            return query
        query.setdefault("per_page", str(self._per_page))
        return query

    def _url(self, path_or_url: str, *, absolute_ok: bool) -> httpx.URL:
        text = str(path_or_url)
        if text.startswith("/"):
            return httpx.URL(self._settings.api_url + text)
        if absolute_ok and text.startswith(("https://", "http://")):
            url = httpx.URL(text)
            if url.scheme == "http" and not is_loopback_host(url.host):
                raise UsageError(f"refusing plain http:// towards {url.host!r} (https only, except loopback)")
            return url
        raise UsageError(f"expected an API path starting with '/v3/...', got {text!r}")

    def _exchange(self, method: str, url: httpx.URL, *, params: Mapping[str, str] | None = None,
                  json: Any = None) -> httpx.Response:
        """Send one logical request, applying the retry policy; return a 2xx response or raise."""
        write = method not in ("GET", "HEAD")
        if write and not self._writes_allowed:
            raise UsageError(f"{type(self).__name__} is read-only: refusing {method} {url.path}")
        path = url.path or "/"
        if self._unreachable is not None:  # refused, DNS or TLS before: every later request would fail alike
            raise TransportError(self._unreachable)
        content = _json_bytes(method, path, json)
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempt = 0
        while True:
            wait: float | None
            try:
                try:
                    response = self._http.request(method, url, params=params, content=content, headers=headers)
                    _unbind(response)
                    self._note_server_clock(response)
                finally:
                    # A request that failed before its answer (transport error, token error) still counts
                    # as in flight at the gate; nothing else will take it out.
                    self._gate.release_unanswered()
            except TokenError as exc:
                if not exc.retryable or attempt >= self._max_retries:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else self._backoff.delay(attempt)
                self._pause(wait, f"the token endpoint answered {exc.status}", method, path, attempt)
                attempt += 1
                continue
            except httpx.TransportError as exc:
                unsent = nothing_was_sent(exc) or self._from_token_request(exc)
                cause = self._redact(describe(exc))
                if write and not unsent:
                    raise OutcomeUnknownError(method, path, cause) from None
                permanent = unfixable(exc) if unsent else None
                if permanent is not None:
                    message, ours = self._cannot_connect(exc, method, url, permanent, attempt)
                    if ours:  # the API or the token endpoint: not, e.g., a bulk result file's host
                        self._unreachable = self._redact(message)
                    raise TransportError(self._redact(message)) from None
                if attempt >= self._max_retries:
                    raise TransportError(
                        f"{method} {_where(url)} -> no answer after {attempt + 1} attempt(s) ({cause})"
                    ) from None
                self._pause(self._backoff.delay(attempt), f"no answer ({cause}); back-off", method, path, attempt)
                attempt += 1
                continue
            except httpx.InvalidURL as exc:
                raise UsageError(f"{method} {path}: invalid URL ({exc})") from None
            except httpx.HTTPError as exc:
                cause = self._redact(describe(exc))
                if write:
                    raise OutcomeUnknownError(method, path, cause) from None
                raise TransportError(f"{method} {path} -> unusable answer ({cause})") from None

            status = response.status_code
            if 200 <= status < 300:
                return response
            if status == 429 and attempt < self._max_retries:
                now = self._clock()
                wait, why = retry_after(response, now), "rate limit (429 with Retry-After)"
                if wait is None:
                    wait, why = reset_wait(response, now), "rate limit (429; until X-RateLimit-Reset)"
                if wait is None:
                    wait, why = self._backoff.delay(attempt), "rate limit (429 with no Retry-After; back-off)"
                self._pause(wait, why, method, path, attempt)
                self._gate.clear()
                attempt += 1
                continue
            if status >= 500 and write:
                message, _ = error_detail(response)
                raise OutcomeUnknownError(method, path, self._redact(f"server answered {status}: {message}"))
            if status in RETRYABLE_GET_STATUSES and attempt < self._max_retries:
                self._pause(self._backoff.delay(attempt), f"the server answered {status}; back-off", method, path,
                            attempt)
                attempt += 1
                continue
            raise self._status_error(method, path, response)

    def _note_server_clock(self, response: httpx.Response) -> None:
        """Keep the server's clock offset from an API answer's `Date` (any status: a 429 or 5xx is the
        server's answer too); an answer without a usable one leaves the last measurement as it was."""
        if not self._hooks.is_api_request(response.request):
            return
        offset = _bulk.clock_offset(response.headers.get_list("date"), self._clock())
        if offset is not None:
            self._server_offset = offset

    def _status_error(self, method: str, path: str, response: httpx.Response) -> HarvestError:
        message, errors = error_detail(response)
        message = self._redact(message)
        if response.status_code == 401 and self._hooks.is_api_request(response.request):
            # The auth flow answers 401 only after MAX_REMINTS fresh tokens were refused as well.
            tries = self._auth.max_remints + 1
            message += (f" (refused {tries} time(s) in a row, with a newly minted token each time: check that the "
                        "credential may use this endpoint; if other processes use the same credential, their "
                        "tokens revoke this one: give each concurrent job its own credential, see "
                        "docs/harvest-client.md section 2)")
        if response.status_code == 404 and self._api.path.rstrip("/").endswith("/v3"):
            message += f" ({V3_HINT})"
        clean = [(self._redact(f), self._redact(m)) for f, m in errors]
        kind = AuthError if response.status_code in (401, 403) else ApiError
        return kind(method, path, response.status_code, message, clean)

    def _from_token_request(self, exc: httpx.TransportError) -> bool:
        try:
            request = exc.request
        except RuntimeError:
            return False
        return self._hooks.is_token_request(request)

    def _pause(self, seconds: float, reason: str, method: str, path: str, attempt: int) -> None:
        """Say the wait before retry `attempt + 1` (console: INFO, NOTICE from LONG_WAIT seconds), then sleep."""
        log_wait(max(0.0, seconds), self._redact(reason),
                 f"{method} {path} (retry {attempt + 1} of at most {self._max_retries})")
        self._sleep(max(0.0, seconds))

    def _cannot_connect(self, exc: httpx.TransportError, method: str, url: httpx.URL, reason: str,
                        attempt: int) -> tuple[str, bool]:
        """(`GET https://harvest.example/v3/departments: cannot connect to harvest.example:443 (connection
        refused); ...`, whether that host is the API's or the token endpoint's): the failed request (the token
        request when that is what failed), its host and port, the setting that names them, and that it was
        not retried."""
        try:
            failed = exc.request
        except RuntimeError:
            failed = None
        target = failed.url if failed is not None else url
        port = target.port or (443 if target.scheme == "https" else 80)
        token = failed is not None and self._hooks.is_token_request(failed)
        what = f"{method} {_where(url)}"
        if token:
            what = f"POST {_where(target)} (the token request for {method} {url.path or '/'})"
        ours = token or same_origin(target, self._api)
        setting = ("; check GREENHOUSE_TOKEN_URL" if token else "; check GREENHOUSE_API_URL" if ours else "")
        return (f"{what}: cannot connect to {target.host}:{port} ({reason}){setting}; not retried, as retrying "
                f"cannot fix this ({attempt + 1} attempt(s))"), ours

    def _fetch_text(self, url: str) -> str:
        response = self._exchange("GET", self._url(url, absolute_ok=True))
        return response.text


class HarvestClient(HarvestReader):
    """Adds writes. Only the executor gets one."""

    _writes_allowed: ClassVar[bool] = True

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(settings, **kwargs)
        #: Bulk requests this client followed: a lost reply is never matched to one of them.
        self._bulk_uuids: set[str] = set()

    def post(self, path: str, json: Any = None) -> WriteResult:
        return self._write("POST", path, json)

    def patch(self, path: str, json: Any) -> WriteResult:
        return self._write("PATCH", path, json)

    def delete(self, path: str, json: Any = None) -> WriteResult:
        return self._write("DELETE", path, json)

    def bulk(self, method: str, path: str, data: Sequence[Any], *,
             polling: _bulk.Polling | None = None) -> _bulk.BulkOutcome:
        """Send `{"data": [...]}` to a `/bulk` endpoint once, follow the bulk request, return its outcome.

        Polls `/v3/bulk_requests/{uuid}` with a growing interval (see `Polling`). A lost reply is looked
        up among the client's recent bulk requests, by time too: with the server's clock known from its
        `Date` headers (`server_offset`), a request made before this one was sent is not taken for it.
        When the outcome cannot be learnt (still pending at
        the deadline, several candidates, status unreadable) it raises BulkPendingError: the rows may
        still be applied in the background and are never sent again. A lost reply that no recent bulk
        request matches raises BulkNotAcceptedError (a BulkPendingError): nothing was accepted, and the
        executor may send the rows again. An error status (e.g. 422) means
        nothing was accepted and raises ApiError as for any write.
        """
        verb = method.upper()
        if verb not in ("POST", "PATCH", "DELETE"):
            raise UsageError(f"bulk method must be POST, PATCH or DELETE, got {method!r}")
        if isinstance(data, (str, bytes)) or not isinstance(data, Sequence):
            raise UsageError("bulk data must be a sequence of rows")
        polling = polling or _bulk.Polling()
        if polling.interval <= 0 or polling.max_wait < 0 or polling.max_interval < polling.interval:
            raise UsageError("bulk polling needs interval > 0, max_wait >= 0, max_interval >= interval")
        outcome = _bulk.run(
            verb, path, list(data),
            send=lambda: self._write(verb, path, {"data": list(data)}),
            poll=lambda uuid: self.get(_bulk.status_path(uuid)),
            recent=lambda: self.get("/v3/bulk_requests", {"per_page": _bulk.LOOKUP_PAGE}),
            fetch=self._fetch_text,
            clock=self._clock,
            sleep=self._sleep,
            polling=polling,
            server_offset=lambda: self._server_offset,
            known=self._bulk_uuids,
        )
        if outcome.uuid:
            self._bulk_uuids.add(outcome.uuid)
        return outcome

    def _write(self, method: str, path: str, json: Any) -> WriteResult:
        response = self._exchange(method, self._url(path, absolute_ok=False), json=json)
        try:
            body = decode_body(response)
        except UnicodeDecodeError:
            body = None
        return WriteResult(status=response.status_code, body=body)


V3_HINT = ("GREENHOUSE_API_URL ends in /v3, but paths are /v3/... under it: set it without /v3, e.g. "
           "https://harvest.greenhouse.io")


def _where(url: httpx.URL) -> str:
    """Where a request went, for a message: scheme, host, port and path; never the query (cursors)."""
    return str(url.copy_with(query=None, fragment=None))


def _unbind(response: httpx.Response) -> None:
    """Break httpx's reference cycle between a read response and its stream (`BoundSyncStream` holds the
    response), so a page is freed by reference counting as soon as its rows are taken, not only by the
    cyclic garbage collector: the manifest loader pauses that collector while it runs, and the
    concurrent reads of `plan` run meanwhile (about 45 MB of dead pages at 100k objects otherwise).
    The body has been read (`request` is not streaming), so nothing needs the stream any more."""
    if response.is_closed:
        response.stream = httpx.ByteStream(b"")


def _direct_mounts(*urls: httpx.URL) -> dict[str, httpx.BaseTransport | None]:
    """`mounts=` sending loopback hosts (the fixed ones, and any of `urls` on loopback) direct.

    httpx matches a mount with a host before its environment proxies (which have none), and NO_PROXY
    cannot be relied on to name the sandbox. Each transport reads SSL_CERT_FILE/SSL_CERT_DIR as
    httpx's default one does.
    """
    hosts = dict.fromkeys([*LOOPBACK_HOSTS, *(u.host.lower() for u in urls if is_loopback_host(u.host))])
    return {(f"all://[{h}]" if ":" in h else f"all://{h}"): httpx.HTTPTransport(trust_env=True) for h in hosts}


def _json_bytes(method: str, path: str, body: Any) -> bytes | None:
    """The request body as compact UTF-8 JSON; None (no body) for None.

    Serialised here rather than by httpx's `json=`, whose spacing, ASCII escaping and NaN handling
    changed between httpx versions: the bytes on the wire are the same with every supported httpx.
    NaN and infinities are not JSON, so they are refused before anything is sent.
    """
    if body is None:
        return None
    try:
        text = jsonlib.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{method} {path}: the request body is not JSON ({exc})") from None
    return text.encode("utf-8")


def _encode(params: Mapping[str, Any]) -> dict[str, str]:
    """Query values as Harvest expects them: lists comma-joined, booleans true/false, None dropped."""
    encoded: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            encoded[str(key)] = "true" if value else "false"
        elif isinstance(value, (set, frozenset)):
            encoded[str(key)] = ",".join(sorted(_scalar(v) for v in value))
        elif isinstance(value, (list, tuple)):
            encoded[str(key)] = ",".join(_scalar(v) for v in value)
        else:
            encoded[str(key)] = _scalar(value)
    return encoded


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
