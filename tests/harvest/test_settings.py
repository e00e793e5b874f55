"""Settings come from the environment, reject unsafe URLs and never print the secret."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
from reconciler.harvest import Settings

BASE = {"GREENHOUSE_CLIENT_ID": "cid", "GREENHOUSE_CLIENT_SECRET": "s3cr3t-value", "GREENHOUSE_USER_ID": "1001"}


def test_defaults_point_at_the_public_harvest_and_auth_hosts() -> None:
    s = Settings.from_env(BASE)
    assert (s.client_id, s.client_secret, s.user_id) == ("cid", "s3cr3t-value", "1001")
    assert s.api_url == "https://harvest.greenhouse.io"
    assert s.token_url == "https://auth.greenhouse.io/token"


def test_every_missing_variable_is_named_at_once() -> None:
    with pytest.raises(UsageError) as info:
        Settings.from_env({"GREENHOUSE_CLIENT_ID": "cid", "GREENHOUSE_USER_ID": "  "})
    text = str(info.value)
    assert "GREENHOUSE_CLIENT_SECRET" in text and "GREENHOUSE_USER_ID" in text
    assert "GREENHOUSE_CLIENT_ID" not in text


def test_urls_are_overridable_and_lose_their_trailing_slash() -> None:
    s = Settings.from_env({**BASE, "GREENHOUSE_API_URL": "https://example.test/",
                           "GREENHOUSE_TOKEN_URL": "https://auth.example.test/token/"})
    assert s.api_url == "https://example.test"
    assert s.token_url == "https://auth.example.test/token"


@pytest.mark.parametrize("url", ["http://localhost:8080", "http://127.0.0.1", "http://127.1.2.3:9", "http://[::1]:8000"])
def test_plain_http_is_accepted_for_loopback_hosts(url: str) -> None:
    assert Settings.from_env({**BASE, "GREENHOUSE_API_URL": url}).api_url == url


@pytest.mark.parametrize("variable", ["GREENHOUSE_API_URL", "GREENHOUSE_TOKEN_URL"])
@pytest.mark.parametrize("url", ["http://harvest.greenhouse.io", "http://10.0.0.1", "http://localhost.evil.test"])
def test_plain_http_to_any_other_host_is_refused(variable: str, url: str) -> None:
    with pytest.raises(UsageError, match=variable):
        Settings.from_env({**BASE, variable: url})


@pytest.mark.parametrize("url", ["ftp://example.test", "harvest.greenhouse.io", "https://", "https://h/x?key=1",
                                 "https://user:pa55word@harvest.greenhouse.io"])
def test_malformed_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError) as info:
        Settings.from_env({**BASE, "GREENHOUSE_API_URL": url})
    assert "pa55word" not in str(info.value)


def test_user_id_must_be_numeric() -> None:
    with pytest.raises(UsageError, match="GREENHOUSE_USER_ID"):
        Settings.from_env({**BASE, "GREENHOUSE_USER_ID": "jane@acme.example"})


def test_the_secret_is_not_in_the_repr() -> None:
    s = Settings.from_env(BASE)
    assert "s3cr3t-value" not in repr(s)
    assert "s3cr3t-value" not in str(s)
