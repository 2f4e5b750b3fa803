"""Settings (DESIGN.md §5): defaults, an optional TOML file, secrets, ``.env``, the environment.

Environment variables win over a ``.env`` file, which wins over a secrets directory (files
named after the variables), which wins over the TOML file. The contract names
(``DIGEST_DATABASE_URL``, ``SLACK_BOT_TOKEN``, ``OPENAI_API_KEY`` ...) map onto the nested
groups below; any other setting can be given as ``DIGEST_<GROUP>__<FIELD>`` (e.g.
``DIGEST_SOURCES__ARXIV__QUERY``). Settings are validated once, at start; a wrong value
becomes one `ConfigError` line that names the setting and where it can be set.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.config_sources import (
    DEFAULT_CONFIG_FILE,
    ENV_NAMES,
    LOCATION_NAMES,
    EnvironmentSource,
    describe_validation_error,
    gathered_environment,
)
from bot.delivery.content import parse_keywords
from bot.edition.profile import load_profile

# Importable from here as before the sources and error descriptions moved out.
__all__ = [
    "DEFAULT_CONFIG_FILE",
    "ENV_NAMES",
    "LOCATION_NAMES",
    "ConfigError",
    "Settings",
    "load_settings",
]


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line that names it."""


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if "@" in parts.netloc:
        # Credentials in a URL end up in error messages and logs: refused, and never shown.
        raise ValueError(
            "must not hold credentials (user:password@); set tokens in their own settings"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
"""An absolute http(s) URL kept as the string given (trailing slashes matter to some clients)."""


def _loopback(host: str | None) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


class _Group(BaseModel):
    # inf and nan pass every ge/le bound of pydantic's: refused everywhere (a stale_after
    # of inf never delivers). Every number below also has a finite upper bound.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HfSettings(_Group):
    """Hugging Face daily papers."""

    enabled: bool = True
    url: HttpUrl = "https://huggingface.co/api/daily_papers"
    weeks: int = Field(default=2, ge=1, le=8)


class ArxivSettings(_Group):
    """The arXiv API query for recent papers."""

    enabled: bool = True
    url: HttpUrl = "https://export.arxiv.org/api/query"
    query: str = Field(default="cat:cs.CL OR cat:cs.LG OR cat:cs.AI", min_length=1)
    max_results: int = Field(default=300, ge=1, le=2000)
    lookback_days: int = Field(default=8, ge=1, le=60)
    min_interval_s: float = Field(default=3.0, ge=3.0, le=3600)


class SemanticScholarSettings(_Group):
    """Citation counts from Semantic Scholar (optional)."""

    enabled: bool = True
    url: HttpUrl = "https://api.semanticscholar.org/graph/v1"
    api_key: SecretStr | None = None
    refresh_hours: int = Field(default=24, ge=1, le=24 * 366)


_FEED_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class FeedSettings(_Group):
    """One RSS/Atom feed, shown as ``rss-<name>``."""

    name: str
    url: HttpUrl

    @field_validator("name")
    @classmethod
    def _simple_name(cls, value: str) -> str:
        if not _FEED_NAME.fullmatch(value):
            raise ValueError(
                f"feed name {value!r} must be 1-40 lower-case letters, digits, '-' or '_' "
                "(it is shown as rss-<name>)"
            )
        return value


DEFAULT_FEEDS = (
    FeedSettings(name="willison", url="https://simonwillison.net/atom/everything/"),
    FeedSettings(name="latentspace", url="https://www.latent.space/feed"),
    FeedSettings(name="openai", url="https://openai.com/news/rss.xml"),
)

RESERVED_SOURCE_NAMES = frozenset({"hf", "arxiv", "manual", "semantic_scholar"})


class SourcesSettings(_Group):
    """Every outside source, and the limits that apply to all of them."""

    hf: HfSettings = HfSettings()
    arxiv: ArxivSettings = ArxivSettings()
    semantic_scholar: SemanticScholarSettings = SemanticScholarSettings()
    feeds: tuple[FeedSettings, ...] = DEFAULT_FEEDS
    timeout_s: float = Field(default=60.0, gt=0, le=600)
    input_usd_per_mtok: float = Field(default=0.0, ge=0, le=10_000)
    output_usd_per_mtok: float = Field(default=0.0, ge=0, le=10_000)
    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=1024**3)
    concurrency: int = Field(default=4, ge=1, le=32)
    # Redirects to loopback, private and link-local addresses are refused unless this is set
    # (self-hosted feeds on a private network); a configured URL itself may be anywhere.
    allow_private_redirects: bool = False

    @field_validator("feeds")
    @classmethod
    def _unique_feed_names(cls, feeds: tuple[FeedSettings, ...]) -> tuple[FeedSettings, ...]:
        names = [feed.name for feed in feeds]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"feed names must be unique; repeated: {', '.join(duplicates)}")
        reserved = sorted(set(names) & RESERVED_SOURCE_NAMES)
        if reserved:
            raise ValueError(f"feed names {', '.join(reserved)} are reserved for built-in sources")
        return feeds


class EditionSettings(_Group):
    """What an edition holds."""

    size: int = Field(default=12, ge=1, le=50)
    window_days: int = Field(default=7, ge=1, le=31)
    # A late arrival (first seen this week, dated earlier) is a candidate only when its source
    # dated it at most this many days before the edition's Monday: a new feed's backlog is not.
    freshness_days: int = Field(default=14, ge=1, le=365)


def _valid_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"unknown timezone {value!r} (use an IANA name such as Europe/Paris)"
        raise ValueError(message) from None
    return value


class ScheduleSettings(_Group):
    """When ``digestbot run`` ingests, composes and delivers."""

    # Off: ``run`` only answers commands (ingest, compose and publish from the CLI or cron).
    enabled: bool = True
    ingest_every_hours: float = Field(default=6.0, gt=0, le=168)
    compose_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    compose_time: str = Field(default="06:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    compose_timezone: Annotated[str, AfterValidator(_valid_timezone)] = "UTC"
    # A delivery later than this after its slot is skipped and reported, not posted.
    stale_after_hours: float = Field(default=36.0, gt=0, le=24 * 31)
    # Transient failures are retried after retry_base_s * 2**attempt, up to max_attempts.
    retry_base_s: float = Field(default=30.0, gt=0, le=86_400)
    max_attempts: int = Field(default=8, ge=1, le=100)
    # How long a claimed delivery stays ours without renewal (a crashed instance's expire).
    # A live worker renews its claim every third of this.
    lease_s: float = Field(default=300.0, ge=1, le=86_400)
    # Deliveries this process runs at once, per platform. Slack paces each channel (about
    # 1 message/s) and Discord the bot, so a delivery mostly waits: many run cheaply.
    workers: int = Field(default=256, ge=1, le=5000)
    # How often the worker looks for due deliveries, and the planner for due slots.
    poll_s: float = Field(default=5.0, gt=0, le=3600)
    plan_every_s: float = Field(default=60.0, gt=0, le=86_400)


ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,80}")
"""A channel or workspace id, as `bot.delivery.deliver.Destination` accepts channel ids."""


class SubscriptionSettings(_Group):
    """One ``[[subscriptions]]`` entry: a channel the file subscribes (seeded at ``run``)."""

    platform: Literal["slack", "discord"]
    # The Slack team id or Discord server id, as /digest-admin in that channel would store it.
    workspace: str
    channel: str
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    time: str = Field(default="09:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # None: the top-level ``timezone`` setting.
    tz: Annotated[str, AfterValidator(_valid_timezone)] | None = None
    difficulty: Literal["accessible", "intermediate", "advanced"] | None = None
    # Per-channel content: profile topics or keywords (``"agents,security"`` or a list).
    topics: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("topics", "exclude", mode="before")
    @classmethod
    def _keywords(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ValueError('expected keywords, e.g. "agents,security"')
        parsed = parse_keywords(",".join(value))
        if isinstance(parsed, str):
            raise ValueError(parsed)
        return parsed

    @field_validator("workspace", "channel")
    @classmethod
    def _an_id(cls, value: str) -> str:
        if not ID_PATTERN.fullmatch(value):
            raise ValueError(f"{value[:80]!r} must be an id: 1-80 letters, digits, '-' or '_'")
        return value

    @property
    def destination(self) -> str:
        """Return ``platform:channel``, as ``--to`` and the delivery outbox name it."""
        return f"{self.platform}:{self.channel}"


class SlackSettings(_Group):
    """Slack: on when a bot token is set."""

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    api_url: HttpUrl = "https://slack.com/api/"
    admin_user_ids: tuple[str, ...] = ()
    # A channel (id) told of every paused subscription on Slack, besides its subscriber.
    admin_channel: str | None = Field(default=None, pattern=r"^[CG][A-Z0-9]{2,20}$")
    # Slack allows about one message per second per channel.
    min_interval_s: float = Field(default=1.0, ge=0, le=60)
    # "Add to Slack" for many workspaces (HTTP mode): the app's credentials from Basic
    # Information. With both set, each workspace that installs the app gets its own token.
    client_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}\.[0-9]{1,20}$")
    client_secret: SecretStr | None = None

    @property
    def oauth(self) -> bool:
        """Tell whether "Add to Slack" (OAuth, a token per workspace) is on."""
        return self.client_id is not None and self.client_secret is not None

    @field_validator("admin_user_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # From the environment the list arrives as "U01,U02".
        return (
            tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, str)
            else value
        )


class DiscordSettings(_Group):
    """Discord: on when a bot token is set."""

    bot_token: SecretStr | None = None
    api_url: HttpUrl = "https://discord.com/api/v10"
    gateway_url: str | None = None
    # Sync the commands to this one server only (instant; for testing a new version).
    sync_guild_id: int | None = Field(default=None, gt=0, lt=2**63)
    # AutoShardedClient: one process, many shards (required past 2,500 servers).
    sharded: bool = False
    # With several processes: the shards this one runs, out of shard_count.
    shard_ids: tuple[int, ...] = ()
    shard_count: int | None = Field(default=None, gt=0, le=100_000)
    # Requests per second this process allows itself: Discord's global limit is 50 per
    # bot; staying under it avoids 429s, which count towards Discord's invalid-request ban.
    # With several processes on one bot, divide it between them.
    requests_per_s: float = Field(default=48.0, gt=0, le=10000)
    # How long discord.py waits for the servers to stream in after connecting.
    guild_ready_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # A text channel (id) told of every paused subscription on Discord, besides its subscriber.
    admin_channel: str | None = Field(default=None, pattern=r"^\d{15,21}$")

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # From the environment the list arrives as "0,1".
        return (
            tuple(v.strip() for v in value.split(",") if v.strip())
            if isinstance(value, str)
            else value
        )


class HttpServerSettings(_Group):
    """Where Slack HTTP mode, /healthz and /metrics listen."""

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)


class WebSettings(_Group):
    """The web archive and its feed, served by ``digestbot run`` on the HTTP server."""

    enabled: bool = True
    page_size: int = Field(default=20, ge=5, le=200)


class LlmSettings(_Group):
    """The OpenAI-compatible summarizer; offline when no key is set.

    ``reasoning_effort`` is sent only to reasoning models: OpenAI's gpt-5 and o-series by
    name, or any model when ``reasoning_model`` is true (false: never). The model ranks the
    offline scorer's best ``rank_shortlist`` candidates, spending at most
    ``rank_budget_share`` of the edition's budget, so that summaries keep the rest.
    """

    api_key: SecretStr | None = None
    base_url: HttpUrl | None = None
    model: str = Field(default="gpt-5-mini", min_length=1)
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high"] = "low"
    reasoning_model: bool | None = None
    rank_shortlist: int = Field(default=40, ge=0, le=1_000)
    rank_budget_share: float = Field(default=0.3, gt=0, le=1)
    edition_token_budget: int = Field(default=60_000, ge=1_000, le=100_000_000)
    concurrency: int = Field(default=8, ge=1, le=64)
    timeout_s: float = Field(default=60.0, gt=0, le=600)
    input_usd_per_mtok: float = Field(default=0.0, ge=0, le=10_000)
    output_usd_per_mtok: float = Field(default=0.0, ge=0, le=10_000)


_LEVELS = frozenset({"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})


class Settings(BaseSettings):
    """Everything the bot can be told, validated once at start."""

    model_config = SettingsConfigDict(extra="forbid", frozen=True)
    environ: ClassVar[Mapping[str, str]] = os.environ
    config_file: ClassVar[Path | None] = None

    database_url: str = Field(default="sqlite:///digest.db", min_length=1)
    timezone: str = "UTC"
    sources: SourcesSettings = SourcesSettings()
    edition: EditionSettings = EditionSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    http: HttpServerSettings = HttpServerSettings()
    llm: LlmSettings = LlmSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    web: WebSettings = WebSettings()
    # Where people reach this bot (DIGEST_PUBLIC_URL), e.g. https://digest.example.com: chat
    # messages link the archive's pages under it, the feed is absolute, and Slack's OAuth
    # redirect URL is <public_url>/slack/oauth_redirect.
    public_url: HttpUrl | None = None
    # None: the command's own level (INFO for ``run``, WARNING for one-shot commands).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    log_format: Literal["text", "json"] = "text"
    # Channels subscribed by the TOML file (``[[subscriptions]]``), seeded when ``run`` starts.
    subscriptions: tuple[SubscriptionSettings, ...] = ()
    # A team's own editorial profile (Markdown with a Topics table) instead of the bundled one.
    profile_path: Path | None = None

    @field_validator("profile_path")
    @classmethod
    def _a_profile(cls, value: Path | None) -> Path | None:
        # Read once here, so that a wrong file is one line at start, not a failure at compose.
        if value is not None:
            load_profile(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return _valid_timezone(value)

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # DIGEST_LOG_LEVEL=info is as clear as INFO; levels are upper-case, formats lower.
        if not isinstance(value, str):
            return value
        return value.strip().upper() if value.strip().upper() in _LEVELS else value.strip().lower()

    @field_validator("subscriptions")
    @classmethod
    def _one_entry_per_channel(
        cls, entries: tuple[SubscriptionSettings, ...]
    ) -> tuple[SubscriptionSettings, ...]:
        # A channel gets one schedule: two entries for it would fight at every start.
        seen: dict[str, int] = {}
        for number, entry in enumerate(entries, start=1):
            first = seen.setdefault(entry.destination, number)
            if first != number:
                raise ValueError(
                    f"entries #{first} and #{number} both subscribe {entry.destination}; keep one"
                )
        return entries

    @model_validator(mode="after")
    def _slack_needs_a_transport(self) -> Settings:
        slack = self.slack
        if slack.bot_token and not (slack.app_token or slack.signing_secret):
            raise ValueError(
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) "
                "nor SLACK_SIGNING_SECRET (HTTP mode) is"
            )
        if (slack.client_id is None) != (slack.client_secret is None):
            raise ValueError("set both SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, or neither")
        if slack.oauth and (slack.app_token or not slack.signing_secret):
            raise ValueError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (Add to Slack) need HTTP mode: "
                "set SLACK_SIGNING_SECRET and leave SLACK_APP_TOKEN unset"
            )
        public = urlsplit(self.public_url) if self.public_url else None
        if slack.oauth and public and public.scheme != "https" and not _loopback(public.hostname):
            raise ValueError(
                "DIGEST_PUBLIC_URL must be https:// (Slack redirects installers only to HTTPS)"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order of precedence: explicit arguments, environment, TOML file, defaults."""
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            EnvironmentSource(settings_cls, cls.environ),
        ]
        if cls.config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.config_file))
        return tuple(sources)


def config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """Return the TOML file to read and whether it was asked for explicitly (DIGEST_CONFIG)."""
    explicit = environ.get("DIGEST_CONFIG", "").strip()
    return (Path(explicit), True) if explicit else (Path(DEFAULT_CONFIG_FILE), False)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise `ConfigError` with one readable line if wrong."""
    try:
        env = gathered_environment(os.environ if environ is None else environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    path, explicit = config_path(env)
    if explicit and not path.is_file():
        raise ConfigError(f"DIGEST_CONFIG points at {path}, which is not a readable file")
    toml_file = path if path.is_file() else None
    if toml_file is not None:
        try:
            tomllib.loads(toml_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{toml_file} is not valid TOML: {exc}") from None

    configured = type("ConfiguredSettings", (Settings,), {"environ": env, "config_file": toml_file})
    try:
        settings: Settings = configured()
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, toml_file)) from None
    return settings
