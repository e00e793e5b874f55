"""A small GitHub REST client for the shipped workflows: what they need and nothing more.

Contract:

* Settings come from the environment exactly as GitHub Actions sets it: `GITHUB_TOKEN` (the job's token,
  passed in by the workflow), `GITHUB_REPOSITORY` (`owner/name`) and `GITHUB_API_URL` (default
  `https://api.github.com`; GitHub Enterprise Server sets its own). Plain `http://` is accepted only for a
  loopback host (a local stand-in of the API in tests), so the token never travels unencrypted.
* The token is sent only to the API origin, as `Authorization: Bearer`; it is never printed, logged or put
  in an error message (it is not even kept in `repr`). Redirects are followed by hand: an artifact download
  answers 302 to a pre-signed URL on another host, which gets no `Authorization` header.
* Every refusal is a `GitHubError` naming the method, the path, the status and GitHub's `message`.
* Lists are read page by page through the `Link: rel="next"` header, 100 items a page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from reconciler.errors import ReconcilerError
from reconciler.harvest.settings import is_loopback_host

DEFAULT_API_URL = "https://api.github.com"
#: Items per page of a list read (GitHub's maximum).
PER_PAGE = 100
#: Largest body read from GitHub (an artifact zip included): a plan of 100k objects is a few tens of MB.
MAX_BODY = 256 * 1024 * 1024
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class GitHubError(ReconcilerError):
    """A GitHub API request failed or GitHub's answer cannot be used (the message says which and why)."""


@dataclass(frozen=True)
class GitHubSettings:
    """Where to talk to GitHub and as whom. `token` is excluded from `repr` so it cannot leak in a trace."""

    repository: str
    api_url: str = DEFAULT_API_URL
    token: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GitHubSettings:
        env = os.environ if environ is None else environ
        token = env.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise GitHubError("GITHUB_TOKEN is not set: pass the job's token to this step "
                              "(env: GITHUB_TOKEN: ${{ github.token }}); see docs/ci.md")
        repository = env.get("GITHUB_REPOSITORY", "").strip()
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
            raise GitHubError(f"GITHUB_REPOSITORY must be owner/name, got {repository!r} "
                              "(GitHub Actions sets it; set it by hand elsewhere)")
        api_url = (env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")
        parts = urlsplit(api_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_host(parts.hostname or "")):
            raise GitHubError(f"GITHUB_API_URL must be an https:// URL (plain http only for a loopback host), "
                              f"got {api_url!r}")
        return cls(repository=repository, api_url=api_url, token=token)


class GitHub:
    """GitHub REST calls under `/repos/{repository}`; `transport` is injectable for tests."""

    def __init__(self, settings: GitHubSettings, *, transport: httpx.BaseTransport | None = None,
                 timeout: float = 30.0) -> None:
        self.settings = settings
        self._origin = _origin(settings.api_url)
        self._http = httpx.Client(transport=transport, timeout=timeout, follow_redirects=False,
                                  headers={"Accept": "application/vnd.github+json",
                                           "X-GitHub-Api-Version": "2022-11-28",
                                           "User-Agent": "greenhouse-reconciler"})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------------------------

    def repo_path(self, suffix: str) -> str:
        """`/repos/{owner}/{name}{suffix}`."""
        return f"/repos/{self.settings.repository}{suffix}"

    def call(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """One request; the decoded JSON answer (None for an empty one). Refusals raise `GitHubError`."""
        response = self._send(method, f"{self.settings.api_url}{path}", path, json=json, params=params)
        return _json(response, method, path) if response.content else None

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following `Link: rel="next"` (which carries the query itself)."""
        url: str | None = f"{self.settings.api_url}{path}"
        query: Mapping[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        while url is not None:
            response = self._send("GET", url, path, params=query)
            items = _json(response, "GET", path)
            if isinstance(items, dict):  # the artifacts list wraps its items
                items = next((v for v in items.values() if isinstance(v, list)), [])
            if not isinstance(items, list):
                raise GitHubError(f"GET {path} -> {response.status_code}: expected a list, got {type(items).__name__}")
            yield from items
            match = _NEXT.search(response.headers.get("link", ""))
            url = match.group(1) if match else None
            query = None
            if url is not None and _origin(url) != self._origin:
                raise GitHubError(f"GET {path}: the next page is on another host ({_origin(url)}); refused")

    def download(self, path: str) -> bytes:
        """The bytes behind `path`, following at most 3 redirects; the token only ever goes to the API origin."""
        url = f"{self.settings.api_url}{path}"
        for _ in range(4):
            response = self._send("GET", url, path, redirect_ok=True)
            if response.status_code not in (301, 302, 303, 307, 308):
                return response.content
            location = response.headers.get("Location", "")
            if not location:
                raise GitHubError(f"GET {path} -> {response.status_code}: a redirect without a Location")
            url = str(httpx.URL(url).join(location))
            target = urlsplit(url)
            if target.scheme != "https" and not is_loopback_host(target.hostname or ""):
                raise GitHubError(f"GET {path} -> {response.status_code}: redirected to plain http; refused")
        raise GitHubError(f"GET {path}: more than 3 redirects")

    def _send(self, method: str, url: str, path: str, *, json: Any = None,
              params: Mapping[str, Any] | None = None, redirect_ok: bool = False) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.settings.token}"} if _origin(url) == self._origin else {}
        try:
            response = self._http.request(method, url, json=json, params=params, headers=headers)
        except httpx.HTTPError as e:  # the message of a transport error carries no header
            raise GitHubError(f"{method} {path} -> no answer from {_origin(url)}: {type(e).__name__}: {e}") from None
        if len(response.content) > MAX_BODY:
            raise GitHubError(f"{method} {path} -> {response.status_code}: answer larger than {MAX_BODY} bytes")
        if response.is_success or (redirect_ok and response.is_redirect):
            return response
        raise GitHubError(f"{method} {path} -> {response.status_code}: {_message(response)}{_hint(response)}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _json(response: httpx.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise GitHubError(f"{method} {path} -> {response.status_code}: the answer is not JSON") from None


def _message(response: httpx.Response) -> str:
    """GitHub's `message` (and `errors`), else the first 200 characters of the body."""
    try:
        data = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        errors = data.get("errors")
        return str(data["message"]) + (f" ({errors})" if errors else "")
    return str(data)[:200]


def _hint(response: httpx.Response) -> str:
    if response.status_code in (403, 404):
        return ("; check the job's `permissions:` (docs/ci.md lists what each workflow needs) "
                "and that GITHUB_TOKEN is the job's token")
    if response.status_code == 401:
        return "; GITHUB_TOKEN was refused"
    return ""
