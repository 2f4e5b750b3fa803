"""Where settings come from, and how a wrong one is told in one line (for `bot.config`).

The contract's environment variable names (DESIGN.md §5), the ``DIGEST_<GROUP>__<FIELD>``
reader, and the one-line description of pydantic's validation errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

DEFAULT_CONFIG_FILE = "digestbot.toml"

ENV_NAMES: Mapping[str, tuple[str, ...]] = {
    "DIGEST_DATABASE_URL": ("database_url",),
    "DIGEST_TIMEZONE": ("timezone",),
    "DIGEST_PROFILE_PATH": ("profile_path",),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_API_URL": ("slack", "api_url"),
    "SLACK_CLIENT_ID": ("slack", "client_id"),
    "SLACK_CLIENT_SECRET": ("slack", "client_secret"),
    "DIGEST_PUBLIC_URL": ("public_url",),
    "DISCORD_BOT_TOKEN": ("discord", "bot_token"),
    "DISCORD_API_URL": ("discord", "api_url"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
    "DIGEST_HTTP_HOST": ("http", "host"),
    "DIGEST_HTTP_PORT": ("http", "port"),
    "OPENAI_API_KEY": ("llm", "api_key"),
    "OPENAI_BASE_URL": ("llm", "base_url"),
    "DIGEST_LLM_MODEL": ("llm", "model"),
    "SEMANTIC_SCHOLAR_API_KEY": ("sources", "semantic_scholar", "api_key"),
}
"""The contract's environment variables and the setting each one fills."""

_NESTED_PREFIX = "DIGEST_"
_NESTED_DELIMITER = "__"


def _set_path(target: dict[str, Any], path: tuple[str, ...], value: object) -> None:
    for key in path[:-1]:
        child = target.setdefault(key, {})
        if not isinstance(child, dict):
            return
        target = child
    target[path[-1]] = value


class EnvironmentSource(PydanticBaseSettingsSource):
    """Reads the contract names and ``DIGEST_<GROUP>__<FIELD>`` variables.

    Empty values count as unset, as slack_sdk and the openai client treat them.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: `__call__` builds the whole nested mapping at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Return the nested settings the environment gives."""
        values: dict[str, Any] = {}
        for name, raw in self._environ.items():
            if not raw.strip():
                continue
            path = ENV_NAMES.get(name)
            if path is None and name.startswith(_NESTED_PREFIX) and _NESTED_DELIMITER in name:
                path = tuple(
                    part.lower() for part in name[len(_NESTED_PREFIX) :].split(_NESTED_DELIMITER)
                )
            if path:
                _set_path(values, path, raw)
        return values


def _env_name_for(path: tuple[str, ...]) -> str:
    for name, target in ENV_NAMES.items():
        if target == path:
            return name
    return _NESTED_PREFIX + _NESTED_DELIMITER.join(part.upper() for part in path)


def _dotted(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def describe_validation_error(exc: ValidationError, toml_file: Path | None) -> str:
    """Turn pydantic's report into one line: the first bad setting, where to fix it, the count."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    loc = tuple(first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown setting (check the spelling against DESIGN.md §5)"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if not loc:
        return f"invalid settings: {message}{more}"
    file_name = toml_file or DEFAULT_CONFIG_FILE
    if loc[0] == "subscriptions":
        # Only the file sets these; name the entry as its author counts them (from 1).
        entry = f" entry #{loc[1] + 1}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        field = f" {_dotted(loc[2:])}" if len(loc) > 2 else ""
        return f"invalid [[subscriptions]]{entry}{field} in {file_name}: {message}{more}"
    if any(isinstance(part, int) for part in loc):
        where = f"in {file_name}"
    else:
        path = tuple(str(part) for part in loc)
        table = ".".join(path[:-1])
        key = f"[{table}] {path[-1]}" if table else path[-1]
        where = f"{_env_name_for(path)} or {key} in {file_name}"
    return f"invalid setting {_dotted(loc)} ({where}): {message}{more}"
