"""The default transport honours the environment's proxy settings, like curl and requests."""

from __future__ import annotations

import httpx
import pytest

from reconciler.harvest.proxy import EnvironmentTransport, proxy_for

API = httpx.URL("https://harvest.greenhouse.io/v3/departments")


@pytest.fixture(autouse=True)
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy",
                 "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_no_proxy_variables_mean_a_direct_connection() -> None:
    assert proxy_for(API) is None


def test_https_proxy_is_used_for_the_https_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    assert proxy_for(API) == "http://proxy.corp.example:3128"


def test_all_proxy_is_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALL_PROXY", "http://all.corp.example:8080")
    assert proxy_for(API) == "http://all.corp.example:8080"


def test_no_proxy_bypasses_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("NO_PROXY", "greenhouse.io")
    assert proxy_for(API) is None


def test_the_loopback_sandbox_never_goes_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp.example:3128")
    assert proxy_for(httpx.URL("http://127.0.0.1:8765/v3/departments")) is None


def test_the_proxied_transport_is_built_once_per_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    transport = EnvironmentTransport()
    sent: list[str] = []

    class Recorder(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(str(request.url))
            return httpx.Response(200, json=[])

    transport._proxied["http://proxy.corp.example:3128"] = Recorder()  # type: ignore[assignment]
    transport.handle_request(httpx.Request("GET", API))
    assert sent == [str(API)]
    transport.close()
