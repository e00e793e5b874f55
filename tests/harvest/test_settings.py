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
        Settings.from_env({"GREENHOUSE_CLIENT_SECRET": " ", "GREENHOUSE_USER_ID": "1001"})
    text = str(info.value)
    assert "GREENHOUSE_CLIENT_ID" in text and "GREENHOUSE_CLIENT_SECRET" in text
    assert "GREENHOUSE_USER_ID" not in text


@pytest.mark.parametrize("user_id", [None, "", "   "])
def test_without_user_id_the_token_acts_as_the_service_user(user_id: str | None) -> None:
    env = {k: v for k, v in BASE.items() if k != "GREENHOUSE_USER_ID"}
    if user_id is not None:
        env["GREENHOUSE_USER_ID"] = user_id
    s = Settings.from_env(env)
    assert s.user_id is None
    assert s.acts_as_service_user


def test_with_user_id_the_token_acts_as_that_user() -> None:
    s = Settings.from_env({**BASE, "GREENHOUSE_USER_ID": " 1001 "})
    assert (s.user_id, s.acts_as_service_user) == ("1001", False)


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
    with pytest.raises(UsageError, match="GREENHOUSE_USER_ID.*unset it to act as the credential's service user"):
        Settings.from_env({**BASE, "GREENHOUSE_USER_ID": "jane@acme.example"})


def test_the_secret_is_not_in_the_repr() -> None:
    s = Settings.from_env(BASE)
    assert "s3cr3t-value" not in repr(s)
    assert "s3cr3t-value" not in str(s)
