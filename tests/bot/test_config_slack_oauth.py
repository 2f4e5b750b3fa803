"""Settings of Add to Slack: SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and DIGEST_PUBLIC_URL."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

OAUTH = {
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_CLIENT_ID": "1234.5678",
    "SLACK_CLIENT_SECRET": "client-secret-value",
}


def test_client_id_and_secret_turn_on_add_to_slack_without_a_bot_token() -> None:
    settings = load_settings(OAUTH | {"DIGEST_PUBLIC_URL": "https://digest.example.com"})
    assert settings.slack.oauth
    assert settings.slack.bot_token is None
    assert settings.public_url == "https://digest.example.com"
    assert "client-secret-value" not in repr(settings) + str(settings.model_dump())


def test_without_them_slack_keeps_its_one_token() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert not settings.slack.oauth
    assert settings.public_url is None


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_CLIENT_ID": "1234.5678"}, "set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET"),
        (OAUTH | {"SLACK_CLIENT_ID": "my-app"}, "slack.client_id (SLACK_CLIENT_ID"),
        (OAUTH | {"SLACK_APP_TOKEN": "xapp-1", "SLACK_BOT_TOKEN": "xoxb-1"}, "need HTTP mode"),
        ({k: v for k, v in OAUTH.items() if k != "SLACK_SIGNING_SECRET"}, "need HTTP mode"),
        (OAUTH | {"DIGEST_PUBLIC_URL": "http://digest.example.com"}, "must be https://"),
        (OAUTH | {"DIGEST_PUBLIC_URL": "digest.example.com"}, "public_url (DIGEST_PUBLIC_URL"),
    ],
)
def test_a_wrong_add_to_slack_setting_is_one_line(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert expected in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "client-secret-value" not in str(caught.value)


def test_a_local_public_url_may_be_plain_http_for_trying_it_out() -> None:
    assert load_settings(OAUTH | {"DIGEST_PUBLIC_URL": "http://localhost:8080"}).public_url
