"""A local stand-in of the GitHub REST API: the endpoints `reconciler/github/` calls, over real HTTP.

A threaded `http.server` on 127.0.0.1 holding comments, issues, merged pull requests and workflow-run
artifacts in memory, and recording every request (method, path, query, whether it carried the token).
It answers like GitHub: 401 without the token, 404 for what it does not hold, pages of `per_page` items
with a `Link: <...>; rel="next"` header, and an artifact download as a 302 to a blob on ANOTHER origin
(`localhost` instead of `127.0.0.1`), where a token must not be sent.
"""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_standin_token_0123456789"
BOT = "github-actions[bot]"


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    authorized: bool
    body: Any


@dataclass
class State:
    repository: str = "acme/people-config"
    comments: list[dict[str, Any]] = field(default_factory=list)
    issues: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[int, bytes] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    next_id: int = 1000


class StandIn:
    """The server; `url` is its API base (http://127.0.0.1:PORT)."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        handler = _handler(self)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def env(self) -> dict[str, str]:
        return {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": self.state.repository, "GITHUB_API_URL": self.url}

    # -- seeding ----------------------------------------------------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            self.state.next_id += 1
            return self.state.next_id

    def add_comment(self, issue: int, body: str, login: str = "alice") -> dict[str, Any]:
        comment = {"id": self.new_id(), "issue": issue, "body": body, "user": {"login": login},
                   "html_url": f"https://github.example/c/{issue}"}
        self.state.comments.append(comment)
        return comment

    def add_issue(self, title: str, body: str, login: str = "alice", pull_request: bool = False) -> dict[str, Any]:
        number = self.new_id()
        issue = {"number": number, "id": number, "title": title, "body": body, "state": "open",
                 "user": {"login": login}, "html_url": f"https://github.example/issues/{number}"}
        if pull_request:
            issue["pull_request"] = {"url": "x"}
        self.state.issues.append(issue)
        return issue

    def add_merged_pull(self, number: int, merge_commit_sha: str) -> None:
        self.state.pulls.append({"number": number, "merge_commit_sha": merge_commit_sha,
                                 "merged_at": "2026-12-01T10:00:00Z", "state": "closed"})

    def add_artifact(self, run_id: int, name: str, files: dict[str, bytes], expired: bool = False) -> int:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member, data in files.items():
                archive.writestr(member, data)
        artifact_id = self.new_id()
        self.state.artifacts.append({"id": artifact_id, "name": name, "run_id": run_id, "expired": expired})
        self.state.blobs[artifact_id] = buffer.getvalue()
        return artifact_id

    # -- reading what happened --------------------------------------------------------------------------------

    def writes(self) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.state.requests if r.method != "GET"]

    def comments_on(self, issue: int) -> list[dict[str, Any]]:
        return [c for c in self.state.comments if c["issue"] == issue]


def _page(items: list[Any], query: dict[str, list[str]], base: str) -> tuple[list[Any], str | None]:
    per_page = int(query.get("per_page", ["30"])[0])
    page = int(query.get("page", ["1"])[0])
    chunk = items[(page - 1) * per_page: page * per_page]
    more = page * per_page < len(items)
    rest = "&".join(f"{k}={v[0]}" for k, v in query.items() if k not in ("page", "per_page"))
    link = f'<{base}?per_page={per_page}&page={page + 1}{"&" + rest if rest else ""}>; rel="next"' if more else None
    return chunk, link


def _handler(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    state = standin.state

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _answer(self, status: int, data: Any = None, headers: dict[str, str] | None = None) -> None:
            body = b"" if data is None else json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            authorized = self.headers.get("Authorization") == f"Bearer {TOKEN}"
            with standin.lock:
                state.requests.append(Recorded(method, parts.path, query, authorized, body))
            if parts.path.startswith("/_blob/"):
                blob = state.blobs.get(int(parts.path.rsplit("/", 1)[-1]))
                if blob is None or self.headers.get("Authorization"):
                    self._answer(400 if blob is not None else 404, {"message": "blob: no token here"})
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(blob)))
                self.end_headers()
                self.wfile.write(blob)
                return
            if not authorized:
                self._answer(401, {"message": "Bad credentials"})
                return
            prefix = f"/repos/{state.repository}"
            if not parts.path.startswith(prefix):
                self._answer(404, {"message": "Not Found"})
                return
            self._route(method, parts.path[len(prefix):], query, body, f"{standin.url}{parts.path}")

        def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any, base: str) -> None:
            with standin.lock:
                result = _route(state, method, path, query, body, base, standin)
            self._answer(*result)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

    return Handler


def _route(state: State, method: str, path: str, query: dict[str, list[str]], body: Any, base: str,
           standin: StandIn) -> tuple[int, Any] | tuple[int, Any, dict[str, str]]:
    if m := re.fullmatch(r"/issues/(\d+)/comments", path):
        issue = int(m.group(1))
        if method == "GET":
            items, link = _page([c for c in state.comments if c["issue"] == issue], query, base)
            return 200, items, ({"Link": link} if link else {})
        if method == "POST":
            state.next_id += 1
            comment = {"id": state.next_id, "issue": issue, "body": body["body"], "user": {"login": BOT},
                       "html_url": f"https://github.example/c/{state.next_id}"}
            state.comments.append(comment)
            return 201, comment
    if (m := re.fullmatch(r"/issues/comments/(\d+)", path)) and method == "PATCH":
        for comment in state.comments:
            if comment["id"] == int(m.group(1)):
                comment["body"] = body["body"]
                return 200, comment
        return 404, {"message": "Not Found"}
    if path == "/issues":
        if method == "GET":
            wanted = query.get("state", ["open"])[0]
            creator = query.get("creator", [None])[0]
            items = [i for i in state.issues if i["state"] == wanted and (creator is None or i["user"]["login"] == creator)]
            page, link = _page(items, query, base)
            return 200, page, ({"Link": link} if link else {})
        if method == "POST":
            state.next_id += 1
            issue = {"number": state.next_id, "id": state.next_id, "title": body["title"], "body": body["body"],
                     "state": "open", "user": {"login": BOT}, "html_url": f"https://github.example/issues/{state.next_id}"}
            state.issues.append(issue)
            return 201, issue
    if (m := re.fullmatch(r"/issues/(\d+)", path)) and method == "PATCH":
        for issue in state.issues:
            if issue["number"] == int(m.group(1)):
                issue.update(body)
                return 200, issue
        return 404, {"message": "Not Found"}
    if (m := re.fullmatch(r"/commits/([0-9a-f]+)/pulls", path)) and method == "GET":
        return 200, [p for p in state.pulls if p["merge_commit_sha"] == m.group(1)]
    if (m := re.fullmatch(r"/actions/runs/(\d+)/artifacts", path)) and method == "GET":
        name = query.get("name", [None])[0]
        items = [a for a in state.artifacts if a["run_id"] == int(m.group(1)) and (name is None or a["name"] == name)]
        page, link = _page(items, query, base)
        return 200, {"total_count": len(items), "artifacts": page}, ({"Link": link} if link else {})
    if (m := re.fullmatch(r"/actions/artifacts/(\d+)/zip", path)) and method == "GET":
        if int(m.group(1)) not in state.blobs:
            return 404, {"message": "Not Found"}
        return 302, None, {"Location": f"http://localhost:{standin.port}/_blob/{m.group(1)}"}
    return 404, {"message": "Not Found"}
