"""The layering rules of DESIGN.md §3, enforced on every module's imports.

bot/ is the core: it imports no platform SDK, no SQLAlchemy and no HTTP client (the composition
root, bot/app.py and bot/cli.py, is the one place that wires adapters in). storage/ is the only
code that knows SQL. Adapters never reach into the store.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py"}
PLATFORM_AND_IO = {
    "slack_bolt",
    "slack_sdk",
    "discord",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "httpx",
    "aiohttp",
    "openai",
    "feedparser",
    "selectolax",
}


def imported_modules(path: Path) -> Iterator[str]:
    """Yield the top-level package of every import in ``path``, wherever it appears."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def modules_under(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize(
    "path", [p for p in modules_under("bot") if relative(p) not in COMPOSITION_ROOT], ids=relative
)
def test_the_core_imports_no_sdk_sql_or_http_client(path: Path) -> None:
    forbidden = (set(imported_modules(path)) & PLATFORM_AND_IO) | (
        set(imported_modules(path)) & {"adapters", "storage"}
    )
    assert not forbidden, f"{relative(path)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", modules_under("adapters"), ids=relative)
def test_adapters_do_not_touch_sql(path: Path) -> None:
    forbidden = set(imported_modules(path)) & {"sqlalchemy", "alembic", "psycopg", "storage"}
    assert not forbidden, f"{relative(path)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", modules_under("storage"), ids=relative)
def test_storage_does_not_reach_the_network_or_platforms(path: Path) -> None:
    forbidden = set(imported_modules(path)) & (
        PLATFORM_AND_IO - {"sqlalchemy", "alembic", "psycopg"}
    )
    assert not forbidden | (set(imported_modules(path)) & {"adapters"}), relative(path)


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # Guards the guard: an import hidden inside a function still counts.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import httpx\n    from sqlalchemy.orm import Session\n")
    assert {"httpx", "sqlalchemy"} <= set(imported_modules(sample))


def test_no_module_is_named_like_the_discord_package() -> None:
    # adapters/chat/discord.py would shadow discord.py for every import in that package.
    assert not list(ROOT.glob("adapters/**/discord.py"))
