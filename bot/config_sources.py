"""Where settings come from, and how a wrong one is told in one line (for `bot.config`).

The contract's environment variable names (DESIGN.md §5), the ``DIGEST_<GROUP>__<FIELD>``
reader, the ``.env`` file and secrets directory that add to the environment, and the one-line
description of pydantic's validation errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

DEFAULT_CONFIG_FILE = "digestbot.toml"
DEFAULT_ENV_FILE = ".env"
LOCATION_NAMES = ("DIGEST_CONFIG", "DIGEST_ENV_FILE", "DIGEST_SECRETS_DIR")
"""Variables that say where the other settings are: read before the settings, not fields."""
MAX_SECRET_BYTES = 64 * 1024

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
    "DIGEST_LOG_LEVEL": ("log_level",),
    "DIGEST_LOG_FORMAT": ("log_format",),
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


def _wanted(name: str) -> bool:
    return name in ENV_NAMES or name.startswith(_NESTED_PREFIX)


def read_env_file(path: Path) -> dict[str, str]:
    """Return the variables a ``.env`` file sets (python-dotenv's parser, as pydantic-settings').

    Only the names the settings read (the contract's and ``DIGEST_*``) are kept; ``${VAR}``
    is not expanded, so a value is what the file says.
    """
    values = dotenv_values(path, interpolate=False, encoding="utf-8")
    return {name: value for name, value in values.items() if value is not None and _wanted(name)}


def read_secrets_dir(folder: Path) -> dict[str, str]:
    """Return one variable per file of ``folder`` (Docker and systemd secrets), value = content.

    A file is named after the variable, in any case (``slack_bot_token`` or
    ``SLACK_BOT_TOKEN``); its content without the final line break is the value. Files of
    other names, folders and files over 64 KiB are ignored.
    """
    values: dict[str, str] = {}
    for entry in sorted(folder.iterdir()):
        name = entry.name.upper()
        if not _wanted(name) or not entry.is_file() or entry.stat().st_size > MAX_SECRET_BYTES:
            continue
        values[name] = entry.read_text(encoding="utf-8").rstrip("\r\n")
    return values


def gathered_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """Return the environment completed by the secrets directory and the ``.env`` file.

    Precedence: the process environment, then ``.env`` (``DIGEST_ENV_FILE``, default
    ``./.env`` when it exists), then the secrets directory (``DIGEST_SECRETS_DIR``, which the
    environment or ``.env`` may name). An empty value counts as unset. Raises ValueError with
    one line when a file or folder named explicitly is not there or cannot be read.
    """
    own = {name: value for name, value in environ.items() if value.strip()}
    env_file = own.get("DIGEST_ENV_FILE", "").strip()
    dotenv: dict[str, str] = {}
    path = Path(env_file or DEFAULT_ENV_FILE)
    if env_file and not path.is_file():
        raise ValueError(f"DIGEST_ENV_FILE points at {path}, which is not a readable file")
    if path.is_file():
        try:
            dotenv = {k: v for k, v in read_env_file(path).items() if v.strip()}
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path} cannot be read: {exc.__class__.__name__}") from None
    folder_name = (own.get("DIGEST_SECRETS_DIR") or dotenv.get("DIGEST_SECRETS_DIR", "")).strip()
    secrets: dict[str, str] = {}
    if folder_name:
        folder = Path(folder_name)
        if not folder.is_dir():
            raise ValueError(f"DIGEST_SECRETS_DIR points at {folder}, which is not a folder")
        try:
            secrets = {k: v for k, v in read_secrets_dir(folder).items() if v.strip()}
        except (OSError, UnicodeDecodeError) as exc:
            # The reason only: a secret's content never reaches a message.
            raise ValueError(f"{folder} cannot be read: {exc.__class__.__name__}") from None
    return secrets | dotenv | own


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
