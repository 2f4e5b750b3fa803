"""``digestbot config show``: the effective settings, where each came from, secrets masked.

Where a value came from is read the way pydantic-settings decides it: the settings class's own
sources (`Settings.settings_customise_sources`), asked in their order of precedence; the first
that gives a setting is where it came from, and a setting none gives is the default. So a
source added there (a ``.env`` file, a secrets directory) is named here without a change:
pydantic-settings' own by their class, any other by its ``origin`` attribute (and
``origin_path``), else by its class name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit, urlunsplit

import typer
from pydantic import BaseModel, SecretStr
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SecretsSettingsSource,
    TomlConfigSettingsSource,
)

from bot.app.cli_json import print_json
from bot.app.console import out, settings_or_exit
from bot.config import ENV_NAMES, Settings
from bot.config_sources import EnvironmentSource

config_cli = typer.Typer(help="The settings in effect.", no_args_is_help=True)

MASK = "****"
SECRET_WORDS = ("token", "secret", "password", "key")
"""A setting whose name ends with one of these is masked whatever its type."""
SHOWN_TAIL = 4
"""At most this many last characters of a long secret are shown, to tell two apart."""


@dataclass(frozen=True, slots=True)
class Shown:
    """One setting as ``config show`` prints it."""

    name: str
    value: object
    source: str
    where: str


def mask_secret(text: str) -> str:
    """Return ``****`` and, for a secret long enough to keep it hidden, its last 4 characters."""
    return MASK + text[-SHOWN_TAIL:] if len(text) >= 16 else MASK


def mask_url(text: str) -> str:
    """Return a URL with the password in its userinfo masked (``user:****@host``)."""
    if "://" not in text or "@" not in text:
        return text
    scheme, _, rest = text.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or "/" in userinfo:  # an "@" in the path, not credentials
        return text
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{MASK}@{host}" if ":" in userinfo else f"{scheme}://{MASK}@{host}"


def _plain(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def shown_value(name: str, value: object) -> object:
    """Return ``value`` fit to print: secrets masked, URLs without passwords."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return mask_secret(value.get_secret_value())
    leaf = name.rsplit(".", 1)[-1].lower()
    if leaf.endswith(SECRET_WORDS):
        return mask_secret(str(value))
    if isinstance(value, str):
        parts = urlsplit(value) if "://" in value else None
        if parts is not None and parts.password:
            return mask_url(value)
        if (
            parts is not None
            and parts.query
            and any(w in parts.query.lower() for w in SECRET_WORDS)
        ):
            return urlunsplit(parts._replace(query=MASK))
    return _plain(value)


def _leaves(
    model: BaseModel, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = (*prefix, name)
        if isinstance(value, BaseModel):
            yield from _leaves(value, path)
        else:
            yield path, value


def _given(values: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True


def _env_name(path: tuple[str, ...], environ: Mapping[str, str]) -> str:
    for name, target in ENV_NAMES.items():
        if target == path and environ.get(name, "").strip():
            return name
    return "DIGEST_" + "__".join(part.upper() for part in path)


def _label(
    source: PydanticBaseSettingsSource, settings: Settings, path: tuple[str, ...]
) -> tuple[str, str]:
    """Return (source, where) for a setting ``source`` gave."""
    cls = type(settings)
    named = getattr(source, "origin", None)  # a source of ours may name itself (".env")
    if isinstance(named, str):
        return named, str(getattr(source, "origin_path", "") or "")
    if isinstance(source, DotEnvSettingsSource):  # before its base class, EnvSettingsSource
        return ".env", _where(source.env_file, ".env")
    if isinstance(source, EnvironmentSource | EnvSettingsSource):
        return "environment", _env_name(path, cls.environ)
    if isinstance(source, TomlConfigSettingsSource):
        return "TOML file", str(cls.config_file or "")
    if isinstance(source, SecretsSettingsSource):
        return "secrets dir", _where(source.secrets_dir, "")
    if isinstance(source, InitSettingsSource):
        return "arguments", ""
    return type(source).__name__.removesuffix("SettingsSource").removesuffix("Source"), ""


def _where(value: object, default: str) -> str:
    """Return the file or folder a source read (pydantic-settings allows several)."""
    if value is None:
        return default
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def _sources(cls: type[BaseSettings]) -> tuple[PydanticBaseSettingsSource, ...]:
    """Return the settings class's sources in precedence order (highest first)."""
    return cls.settings_customise_sources(
        cls,
        init_settings=InitSettingsSource(cls, init_kwargs={}),
        env_settings=EnvSettingsSource(cls),
        dotenv_settings=DotEnvSettingsSource(cls),
        file_secret_settings=SecretsSettingsSource(cls),
    )


def effective_settings(settings: Settings) -> list[Shown]:
    """Return every setting in effect, masked, with the source that gave it."""
    given = [(source, source()) for source in _sources(type(settings))]
    shown = []
    for path, value in _leaves(settings):
        name = ".".join(path)
        source, where = "default", ""
        for candidate, values in given:
            if _given(values, path):
                source, where = _label(candidate, settings, path)
                break
        shown.append(Shown(name, shown_value(name, value), source, where))
    return shown


@config_cli.command("show")
def show_command(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object: {name: {value, source, where}}.")
    ] = False,
) -> None:
    """Print the settings in effect and where each came from (secrets masked)."""
    settings = settings_or_exit()
    shown = effective_settings(settings)
    if as_json:
        print_json(
            {
                "settings": {
                    s.name: {"value": s.value, "source": s.source, "where": s.where or None}
                    for s in shown
                }
            }
        )
        return
    width = max(len(s.name) for s in shown)
    for s in shown:
        origin = f"{s.source}: {s.where}" if s.where else s.source
        value = s.value if isinstance(s.value, str) else json.dumps(s.value, ensure_ascii=False)
        out.print(f"{s.name:<{width}}  {value}  ({origin})", markup=False)
