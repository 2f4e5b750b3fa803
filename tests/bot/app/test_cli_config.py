"""``digestbot config show``: every setting, where it came from, and no secret in the clear."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic_settings import BaseSettings, DotEnvSettingsSource, PydanticBaseSettingsSource

from bot.app.cli_config import effective_settings, mask_secret, mask_url, shown_value
from bot.config import load_settings
from tests.bot.app.test_cli import digestbot

KEY = "sk-proj-Zq81xVbN3mT0pLk4Yw9e"
PASSWORD = "S3cretPw!x"
ENV = {
    "OPENAI_API_KEY": KEY,
    "DIGEST_DATABASE_URL": f"postgresql://digest:{PASSWORD}@db.internal/digest",
    "SLACK_BOT_TOKEN": "xoxb-1234-short",
    "SLACK_APP_TOKEN": "xapp-1-A0FAKE-1234567890-abcdefabcdef",
    "DIGEST_EDITION__SIZE": "9",
}
TOML = """
[edition]
size = 10
window_days = 6
"""


def test_config_show_names_each_settings_source_and_masks_secrets(tmp_path: Path) -> None:
    (tmp_path / "digestbot.toml").write_text(TOML, encoding="utf-8")
    result = digestbot("config", "show", cwd=tmp_path, env=ENV | {"COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert lines["llm.api_key"].split()[1:] == ["****Yw9e", "(environment:", "OPENAI_API_KEY)"]
    assert "postgresql://digest:****@db.internal/digest" in lines["database_url"]
    assert lines["slack.bot_token"].split()[1] == "****"  # too short to show any of it
    assert lines["edition.size"].endswith("9  (environment: DIGEST_EDITION__SIZE)")
    assert lines["edition.window_days"].endswith("6  (TOML file: digestbot.toml)")
    assert lines["llm.model"].endswith("gpt-5-mini  (default)")
    assert lines["llm.edition_token_budget"].endswith("60000  (default)")  # a number, not a secret
    for secret in (KEY, PASSWORD, "xoxb-1234-short", "abcdefabcdef"):
        assert secret not in result.stdout + result.stderr
    assert not (tmp_path / "digest.db").exists()


def test_config_show_json(tmp_path: Path) -> None:
    result = digestbot("config", "show", "--json", cwd=tmp_path, env=ENV)
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)["settings"]
    assert settings["llm.api_key"] == {
        "value": "****Yw9e",
        "source": "environment",
        "where": "OPENAI_API_KEY",
    }
    assert settings["edition.size"] == {
        "value": 9,
        "source": "environment",
        "where": "DIGEST_EDITION__SIZE",
    }
    assert settings["timezone"] == {"value": "UTC", "source": "default", "where": None}
    assert settings["sources.feeds"]["value"][0]["name"] == "willison"
    assert KEY not in result.stdout


def test_a_wrong_setting_is_still_one_line(tmp_path: Path) -> None:
    result = digestbot("config", "show", cwd=tmp_path, env={"DIGEST_EDITION__SIZE": "999"})
    assert result.returncode == 1
    assert result.stderr.startswith("digestbot: invalid setting edition.size")
    assert len(result.stderr.splitlines()) == 1


def test_masking() -> None:
    assert mask_secret("short") == "****"
    assert mask_secret("0123456789abcdefWXYZ") == "****WXYZ"
    assert mask_url("postgresql+psycopg://u:p@ss@h/db") == "postgresql+psycopg://u:****@h/db"
    assert mask_url("sqlite:////data/a@b/digest.db") == "sqlite:////data/a@b/digest.db"
    assert shown_value("sources.feeds", ()) == []
    assert shown_value("x.url", "https://h/feed?token=abc") == "https://h/feed?****"


def test_a_source_added_to_the_settings_class_is_named(tmp_path: Path) -> None:
    """A .env source (as the deployment settings add) is named by the same rule."""
    dotenv = tmp_path / "app.env"
    dotenv.write_text("timezone=Europe/Paris\n", encoding="utf-8")
    plain = load_settings({})

    class WithDotEnv(type(plain)):  # type: ignore[misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            ours = super().settings_customise_sources(
                settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
            )
            return (*ours, DotEnvSettingsSource(settings_cls, env_file=dotenv))

    shown = {s.name: s for s in effective_settings(WithDotEnv())}
    assert (shown["timezone"].value, shown["timezone"].source) == ("Europe/Paris", ".env")
    assert shown["timezone"].where == str(dotenv)
    assert shown["llm.model"].source == "default"
