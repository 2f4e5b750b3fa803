"""The deploy kit names only what exists: Dockerfile, compose.yaml, .env.example, systemd unit.

Images cannot be built here, so each file is parsed: every ``digestbot`` command it runs is a
command of the typer app, every DIGEST_/SLACK_/DISCORD_/OPENAI_ variable is a setting (or
says where settings are), every file it copies is in the repository, and its port is the
one the bot listens on. The image's HEALTHCHECK code is run against a real health server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
import yaml
from pydantic import BaseModel

from adapters.health import HealthServer
from bot.app.cli import cli
from bot.commands.health import HealthReport
from bot.config import ENV_NAMES, LOCATION_NAMES, Settings, load_settings
from bot.config_sources import read_env_file
from tests.fakes.clock import FakeClock

ROOT = Path(__file__).resolve().parents[1]
OURS = re.compile(r"\b(?:DIGEST|SLACK|DISCORD|OPENAI|SEMANTIC_SCHOLAR)_[A-Z0-9_]+\b")
DEFAULT_PORT = Settings.model_fields["http"].default.port


def is_setting(name: str) -> bool:
    """True when ``name`` is a contract name, a location name or DIGEST_<GROUP>__<FIELD>."""
    if name in ENV_NAMES or name in LOCATION_NAMES:
        return True
    if not name.startswith("DIGEST_") or "__" not in name:
        return False
    model: type[BaseModel] = Settings
    parts = name.removeprefix("DIGEST_").lower().split("__")
    for number, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        annotation = field.annotation
        if number + 1 < len(parts):
            if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                return False
            model = annotation
    return True


def assert_settings(text: str, where: str) -> None:
    names = set(OURS.findall(text))
    assert names, where
    unknown = sorted(name for name in names if not is_setting(name))
    assert not unknown, f"{where} names variables the bot does not read: {unknown}"


def assert_command(args: list[str], where: str) -> None:
    """``args`` (after ``digestbot``) must be a command, and its options must parse."""
    group = typer.main.get_command(cli)
    context = group.context_class(group, info_name="digestbot")
    command: Any = group
    rest = list(args)
    while hasattr(command, "get_command"):  # a group: its commands by name
        assert rest, f"{where}: digestbot needs a command"
        found = command.get_command(context, rest[0])
        assert found is not None, f"{where}: digestbot has no command {rest[0]!r}"
        command, rest = found, rest[1:]
    command.make_context(command.name, rest)  # raises on an unknown option


def dockerfile() -> list[tuple[str, str]]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    logical = re.sub(r"\\\n", " ", text)
    instructions = []
    for line in logical.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def exec_form(text: str) -> list[str]:
    value = json.loads(text)
    assert isinstance(value, list)
    return [str(part) for part in value]


def test_the_dockerfile_copies_real_files_runs_real_commands_as_non_root() -> None:
    steps = dockerfile()
    for keyword, rest in steps:
        if keyword == "COPY" and not rest.startswith("--from"):
            *sources, _ = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    (user,) = [rest for keyword, rest in steps if keyword == "USER"]
    assert user not in {"root", "0"}
    env = " ".join(rest for keyword, rest in steps if keyword == "ENV")
    assert "DIGEST_HTTP_HOST=0.0.0.0" in env
    assert_settings(env, "Dockerfile ENV")
    assert [rest for keyword, rest in steps if keyword == "EXPOSE"] == [str(DEFAULT_PORT)]
    (entrypoint,) = [exec_form(rest) for keyword, rest in steps if keyword == "ENTRYPOINT"]
    (cmd,) = [exec_form(rest) for keyword, rest in steps if keyword == "CMD"]
    assert entrypoint == ["digestbot"]
    assert_command(cmd, "Dockerfile CMD")
    # The package data the image needs is what setuptools ships: pyproject names the packages.
    for package in ("bot", "adapters", "storage", "prompts"):
        assert any(keyword == "COPY" and rest.startswith(package) for keyword, rest in steps)


def healthcheck_code() -> str:
    (check,) = [rest for keyword, rest in dockerfile() if keyword == "HEALTHCHECK"]
    command = exec_form(check[check.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"], "the image has no curl: python -c urllib"
    assert "/healthz" in command[2]
    return command[2]


async def test_the_image_healthcheck_passes_while_healthy_and_fails_when_the_database_is_down(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    database_ok = [True]

    async def report() -> HealthReport:
        return HealthReport(clock.now(), database_ok[0])

    server = HealthServer(report, "127.0.0.1", 0)
    await server.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_")}
    env["DIGEST_HTTP_PORT"] = str(server.port)
    codes = []
    try:
        for ok in (True, False):
            database_ok[0] = ok
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                healthcheck_code(),
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            codes.append(await asyncio.wait_for(process.wait(), timeout=30))
    finally:
        await server.aclose()
    assert codes[0] == 0
    assert codes[1] != 0


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_compose_migrates_once_then_starts_the_bot_on_postgres() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "bot"}
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["bot"]["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"}
    }
    for name in ("migrate", "bot"):
        service = services[name]
        assert service["build"] == "."
        assert (ROOT / "Dockerfile").is_file()
        assert_command(service["command"], f"compose.yaml {name}")
        assert service["env_file"] == ".env"
        url = service["environment"]["DIGEST_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://digest:${POSTGRES_PASSWORD}@db:5432/")
        assert_settings(" ".join(service["environment"]), f"compose.yaml {name}")
    (port,) = services["bot"]["ports"]
    assert port.rsplit(":", 1)[1] == str(DEFAULT_PORT)


def test_env_example_names_only_real_settings_and_its_values_load() -> None:
    path = ROOT / ".env.example"
    text = path.read_text(encoding="utf-8")
    assert_settings(text, ".env.example")
    values = read_env_file(path)
    # Every token is empty: an example holds no secret.
    for name in ENV_NAMES:
        if any(word in name for word in ("TOKEN", "SECRET", "KEY")):
            assert not values.get(name), f"{name} must be empty in .env.example"
    settings = load_settings(values | {"DIGEST_ENV_FILE": str(path)})
    assert settings.http.port == DEFAULT_PORT
    assert settings.log_format == "json"
    # The settings every deployer sets are all there.
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_BOT_TOKEN", "OPENAI_API_KEY"):
        assert re.search(rf"^{name}=", text, re.MULTILINE), name
    for name in ("DIGEST_DATABASE_URL", "DIGEST_LOG_LEVEL", "DIGEST_SECRETS_DIR"):
        assert name in text


def test_the_systemd_unit_runs_real_commands_with_real_settings() -> None:
    text = (ROOT / "deploy" / "digestbot.service").read_text(encoding="utf-8")
    assert_settings(text, "deploy/digestbot.service")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    commands = [line.split("=", 1)[1] for line in lines if line.startswith("ExecStart")]
    assert len(commands) == 2
    for command in commands:
        executable, *args = shlex.split(command)
        assert executable.endswith("/digestbot")
        assert_command(args, "deploy/digestbot.service")
    assert "User=digestbot" in lines
    assert f"Environment=DIGEST_HTTP_PORT={DEFAULT_PORT}" in lines


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("DIGEST_SCHEDULE__COMPOSE_DAY", True),
        ("DIGEST_SCHEDULE__COMPOSE_WEEKDAY", False),
        ("DIGEST_SOURCES__ARXIV__QUERY", True),
        ("DIGEST_EDITION__SIZE__X", False),
        ("SLACK_TOKEN", False),
        ("DIGEST_SECRETS_DIR", True),
    ],
)
def test_the_variable_check_tells_a_misspelt_setting(name: str, known: bool) -> None:
    assert is_setting(name) is known
