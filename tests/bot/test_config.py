"""Settings: defaults, TOML, environment precedence, and one-line errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.edition.profile import load_profile

TOML = """
database_url = "sqlite:///from-toml.db"

[sources.hf]
enabled = false

[sources.arxiv]
query = "cat:cs.CL"

[[sources.feeds]]
name = "mine"
url = "https://example.org/feed.xml"

[[sources.feeds]]
name = "theirs"
url = "https://example.com/atom"

[edition]
size = 8
"""


def write_config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "digestbot.toml"
    path.write_text(text, encoding="utf-8")
    return {"DIGEST_CONFIG": str(path)}


def test_defaults_match_the_design_contract() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///digest.db"
    assert settings.sources.hf.url == "https://huggingface.co/api/daily_papers"
    assert settings.sources.arxiv.url == "https://export.arxiv.org/api/query"
    assert settings.sources.arxiv.query == "cat:cs.CL OR cat:cs.LG OR cat:cs.AI"
    assert settings.sources.semantic_scholar.url == "https://api.semanticscholar.org/graph/v1"
    assert [feed.name for feed in settings.sources.feeds] == ["willison", "latentspace", "openai"]
    assert settings.edition.size == 12
    assert settings.slack.api_url == "https://slack.com/api/"
    assert settings.discord.api_url == "https://discord.com/api/v10"
    assert (settings.http.host, settings.http.port) == ("127.0.0.1", 8080)
    assert settings.timezone == "UTC"
    assert settings.llm.api_key is None


def test_toml_file_sets_values_and_feeds_replace_the_default_list(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, TOML))
    assert settings.database_url == "sqlite:///from-toml.db"
    assert settings.sources.hf.enabled is False
    assert settings.sources.arxiv.query == "cat:cs.CL"
    assert [feed.name for feed in settings.sources.feeds] == ["mine", "theirs"]
    assert settings.edition.size == 8


def test_environment_overrides_the_toml_file(tmp_path: Path) -> None:
    env = write_config(tmp_path, TOML) | {
        "DIGEST_DATABASE_URL": "sqlite:///from-env.db",
        "DIGEST_SOURCES__ARXIV__QUERY": "cat:cs.AI",
        "DIGEST_EDITION__SIZE": "10",
        "OPENAI_API_KEY": "sk-test",
        "DIGEST_LLM_MODEL": "small-model",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
        "DIGEST_HTTP_PORT": "0",
    }
    settings = load_settings(env)
    assert settings.database_url == "sqlite:///from-env.db"
    assert settings.sources.arxiv.query == "cat:cs.AI"
    assert settings.edition.size == 10
    assert settings.llm.model == "small-model"
    assert settings.slack.api_url == "http://127.0.0.1:9/api/"
    assert settings.http.port == 0
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-test"


def test_empty_environment_values_count_as_unset() -> None:
    settings = load_settings({"OPENAI_API_KEY": "", "DIGEST_DATABASE_URL": "  "})
    assert settings.llm.api_key is None
    assert settings.database_url == "sqlite:///digest.db"


def test_secrets_never_appear_in_the_printed_settings() -> None:
    settings = load_settings(
        {
            "OPENAI_API_KEY": "sk-very-secret",
            "SLACK_BOT_TOKEN": "xoxb-secret",
            "SLACK_APP_TOKEN": "xapp-secret",
        }
    )
    printed = repr(settings) + str(settings.model_dump())
    assert "sk-very-secret" not in printed
    assert "xoxb-secret" not in printed


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {"DIGEST_HTTP_PORT": "eighty"},
            "invalid setting http.port (DIGEST_HTTP_PORT or [http] port in digestbot.toml)",
        ),
        ({"SLACK_API_URL": "ftp://slack.example"}, "slack.api_url (SLACK_API_URL"),
        ({"DIGEST_TIMEZONE": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        (
            {"DIGEST_SCHEDULE__COMPOSE_TIMEZONE": "Paris"},
            "schedule.compose_timezone (DIGEST_SCHEDULE__COMPOSE_TIMEZONE or [schedule] "
            "compose_timezone in digestbot.toml): unknown timezone 'Paris'",
        ),
        ({"DIGEST_SLACK__ADMIN_CHANNEL": "#digest-ops"}, "slack.admin_channel"),
        ({"DIGEST_DISCORD__ADMIN_CHANNEL": "digest-ops"}, "discord.admin_channel"),
        ({"DIGEST_SOURCES__ARXIV__QUERI": "x"}, "sources.arxiv.queri"),
        ({"DIGEST_EDITION__SIZE": "0"}, "edition.size"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, "neither SLACK_APP_TOKEN"),
        ({"DIGEST_CONFIG": "/no/such/digestbot.toml"}, "DIGEST_CONFIG points at"),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_setting(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message
    assert "Traceback" not in message


def test_bad_toml_names_the_file_and_line(tmp_path: Path) -> None:
    env = write_config(tmp_path, "[edition\nsize = 3\n")
    with pytest.raises(ConfigError, match=r"digestbot.toml is not valid TOML: .*line 1"):
        load_settings(env)


def test_bad_feed_entries_are_explained(tmp_path: Path) -> None:
    env = write_config(
        tmp_path,
        '[[sources.feeds]]\nname = "Simon W"\nurl = "https://simonwillison.net/atom/everything/"\n',
    )
    with pytest.raises(ConfigError, match=r"sources\.feeds\[0\]\.name .*'Simon W' must be"):
        load_settings(env)

    env = write_config(
        tmp_path,
        '[[sources.feeds]]\nname = "a"\nurl = "https://a.example/f"\n'
        '[[sources.feeds]]\nname = "a"\nurl = "https://b.example/f"\n',
    )
    with pytest.raises(ConfigError, match="repeated: a"):
        load_settings(env)

    env = write_config(tmp_path, '[[sources.feeds]]\nname = "arxiv"\nurl = "https://a.example/f"\n')
    with pytest.raises(ConfigError, match="reserved"):
        load_settings(env)


def test_discord_shards_and_sync_guild_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "DIGEST_DISCORD__SHARD_IDS": "2, 3",
            "DIGEST_DISCORD__SHARD_COUNT": "4",
            "DIGEST_DISCORD__SYNC_GUILD_ID": "1200000000000000001",
        }
    )
    assert settings.discord.shard_ids == (2, 3)
    assert settings.discord.shard_count == 4
    assert settings.discord.sync_guild_id == 1200000000000000001
    with pytest.raises(ConfigError, match="DIGEST_DISCORD__SHARD_COUNT"):
        load_settings({"DIGEST_DISCORD__SHARD_COUNT": "0"})


def test_admin_channels_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "DIGEST_SLACK__ADMIN_CHANNEL": "C0OPS1234",
            "DIGEST_DISCORD__ADMIN_CHANNEL": "1400000000000000199",
        }
    )
    assert settings.slack.admin_channel == "C0OPS1234"
    assert settings.discord.admin_channel == "1400000000000000199"
    assert load_settings({}).slack.admin_channel is None


def test_the_model_paths_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "DIGEST_LLM__REASONING_EFFORT": "minimal",
            "DIGEST_LLM__REASONING_MODEL": "true",
            "DIGEST_LLM__RANK_SHORTLIST": "60",
            "DIGEST_LLM__RANK_BUDGET_SHARE": "0.25",
        }
    )
    assert settings.llm.reasoning_effort == "minimal"
    assert settings.llm.reasoning_model is True
    assert (settings.llm.rank_shortlist, settings.llm.rank_budget_share) == (60, 0.25)
    assert load_settings({}).llm.reasoning_effort == "low"


def test_a_teams_own_profile_replaces_the_bundled_one(tmp_path: Path) -> None:
    mine = tmp_path / "profile.md"
    mine.write_text(
        "# Our profile\n\nFor robot builders.\n\n| topic | weight | clause | terms |\n"
        "|---|---|---|---|\n| robots | 1.0 | Robots Walk | robot, robots, humanoid |\n",
        encoding="utf-8",
    )
    settings = load_settings({"DIGEST_PROFILE_PATH": str(mine)})
    assert settings.profile_path == mine
    assert [t.name for t in load_profile(settings.profile_path).topics] == ["robots"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read the profile"),
        ("# A profile\n\nNo table here.\n", "has no Topics table"),
    ],
    ids=["missing", "no-topics"],
)
def test_a_wrong_profile_is_one_line_naming_the_setting(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "profile.md"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings({"DIGEST_PROFILE_PATH": str(path)})
    message = str(caught.value)
    assert "DIGEST_PROFILE_PATH" in message
    assert expected in message
    assert "\n" not in message


def test_subscription_topics_in_the_settings_file(tmp_path: Path) -> None:
    entry = (
        '[[subscriptions]]\nplatform = "slack"\nworkspace = "T1"\nchannel = "C1"\n'
        'topics = "agents, Security"\nexclude = ["vision"]\n'
    )
    (settings_entry,) = load_settings(write_config(tmp_path, entry)).subscriptions
    assert (settings_entry.topics, settings_entry.exclude) == (("agents", "security"), ("vision",))
    with pytest.raises(ConfigError, match=r"\[\[subscriptions\]\] entry #1 topics .*not a topic"):
        load_settings(write_config(tmp_path, entry.replace("agents, Security", "<!here>")))


def test_a_dotenv_file_fills_what_the_environment_does_not_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "# the deployer's file\n"
        "DIGEST_DATABASE_URL=sqlite:///from-dotenv.db\n"
        "SLACK_BOT_TOKEN='xoxb-from-dotenv'\n"
        'SLACK_APP_TOKEN="xapp-from-dotenv"\n'
        "DIGEST_EDITION__SIZE=9\n"
        "DIGEST_LOG_LEVEL=debug\n"
        "UNRELATED=1\n",
        encoding="utf-8",
    )
    settings = load_settings({"DIGEST_EDITION__SIZE": "7", "DIGEST_LOG_FORMAT": "JSON"})
    assert settings.database_url == "sqlite:///from-dotenv.db"
    assert settings.slack.bot_token is not None
    assert settings.slack.bot_token.get_secret_value() == "xoxb-from-dotenv"
    assert settings.edition.size == 7  # the environment wins over .env
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")


def test_dotenv_file_named_by_digest_env_file_and_a_missing_one_is_one_line(
    tmp_path: Path,
) -> None:
    named = tmp_path / "prod.env"
    named.write_text("DIGEST_TIMEZONE=Europe/Paris\n", encoding="utf-8")
    assert load_settings({"DIGEST_ENV_FILE": str(named)}).timezone == "Europe/Paris"
    with pytest.raises(ConfigError, match=r"^DIGEST_ENV_FILE points at .*nowhere\.env"):
        load_settings({"DIGEST_ENV_FILE": str(tmp_path / "nowhere.env")})


def test_a_secrets_dir_gives_one_variable_per_file_below_env_and_dotenv(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "discord_bot_token").write_text("token-from-a-secret-file\n", encoding="utf-8")
    (secrets / "OPENAI_API_KEY").write_text("sk-from-file", encoding="utf-8")
    (secrets / "DIGEST_DATABASE_URL").write_text("sqlite:///secret.db", encoding="utf-8")
    (secrets / "not-a-setting").write_text("ignored", encoding="utf-8")
    env_file = tmp_path / "deploy.env"
    env_file.write_text(f"DIGEST_SECRETS_DIR={secrets}\nOPENAI_API_KEY=sk-from-dotenv\n")
    settings = load_settings(
        {"DIGEST_ENV_FILE": str(env_file), "DIGEST_DATABASE_URL": "sqlite:///env.db"}
    )
    assert settings.discord.bot_token is not None
    assert settings.discord.bot_token.get_secret_value() == "token-from-a-secret-file"
    assert settings.llm.api_key is not None
    assert settings.llm.api_key.get_secret_value() == "sk-from-dotenv"
    assert settings.database_url == "sqlite:///env.db"
    with pytest.raises(ConfigError, match=r"^DIGEST_SECRETS_DIR points at .*, which is not a"):
        load_settings({"DIGEST_SECRETS_DIR": str(tmp_path / "missing")})


def test_a_wrong_log_setting_is_one_line() -> None:
    with pytest.raises(ConfigError, match=r"log_level \(DIGEST_LOG_LEVEL or log_level in"):
        load_settings({"DIGEST_LOG_LEVEL": "loud"})
    with pytest.raises(ConfigError, match=r"log_format \(DIGEST_LOG_FORMAT"):
        load_settings({"DIGEST_LOG_FORMAT": "xml"})
