"""The layering rules of DESIGN.md §3, enforced on every module's imports.

bot/ is the core, grouped by the flow's stages: it imports no platform SDK, no SQLAlchemy and
no HTTP client. The composition root, the ``bot/app/`` subpackage, is the one place that wires
adapters and storage in. storage/ is the only code that knows SQL; adapters never reach into
the store. No module imports another in a circle, even through an import inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("bot", "adapters", "storage", "prompts")
COMPOSITION_ROOT = "bot/app/"
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
    "apscheduler",
}
# The core may use its scheduler library in the one module that wires APScheduler.
SCHEDULER_HOME = "bot/delivery/schedule.py"
MAX_LINES = 600
MAX_TOP_LEVEL_CORE_MODULES = 8


def imported_names(path: Path) -> Iterator[str]:
    """Yield the dotted name of every import in ``path``, wherever it appears.

    ``from package import module`` yields ``package.module`` as well as ``package``, so an
    import of a submodule through its package is seen.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            for alias in node.names:
                yield f"{node.module}.{alias.name}"


def imported_modules(path: Path) -> set[str]:
    """Return the top-level package of every import in ``path``."""
    return {name.split(".")[0] for name in imported_names(path)}


def modules_under(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PROJECT_PACKAGES
        for path in modules_under(package)
        if "migrations" not in path.parts
    }


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Return, per project module, the project modules it imports (anywhere in its body)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for imported in imported_names(path):
            # ``from bot.x import y`` names bot.x.y: a module if one exists, else bot.x.
            candidate = imported
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                targets.add(candidate)
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def core_modules() -> list[Path]:
    return [p for p in modules_under("bot") if not relative(p).startswith(COMPOSITION_ROOT)]


@pytest.mark.parametrize("path", core_modules(), ids=relative)
def test_the_core_imports_no_sdk_sql_or_http_client(path: Path) -> None:
    allowed = {"apscheduler"} if relative(path) == SCHEDULER_HOME else set()
    forbidden = (imported_modules(path) & (PLATFORM_AND_IO - allowed)) | (
        imported_modules(path) & {"adapters", "storage"}
    )
    assert not forbidden, f"{relative(path)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", core_modules(), ids=relative)
def test_the_core_never_imports_the_composition_root(path: Path) -> None:
    wired = {name for name in imported_names(path) if name.startswith("bot.app")}
    assert not wired, f"{relative(path)} imports {sorted(wired)}"


@pytest.mark.parametrize("path", modules_under("adapters"), ids=relative)
def test_adapters_do_not_touch_sql(path: Path) -> None:
    forbidden = imported_modules(path) & {"sqlalchemy", "alembic", "psycopg", "storage"}
    assert not forbidden, f"{relative(path)} imports {sorted(forbidden)}"


@pytest.mark.parametrize("path", modules_under("storage"), ids=relative)
def test_storage_does_not_reach_the_network_or_platforms(path: Path) -> None:
    forbidden = imported_modules(path) & (PLATFORM_AND_IO - {"sqlalchemy", "alembic", "psycopg"})
    assert not forbidden | (imported_modules(path) & {"adapters"}), relative(path)


def test_no_module_imports_in_a_circle() -> None:
    cycle = find_cycle(import_graph(project_modules()))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_sees_a_cycle_through_a_function_level_import(tmp_path: Path) -> None:
    # Guards the guard: a.py imports b at the top, b.py imports a inside a function.
    (tmp_path / "a.py").write_text("import b\n")
    (tmp_path / "b.py").write_text("def f():\n    from a import g\n")
    modules = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    assert find_cycle(import_graph(modules)) == ["a", "b", "a"]


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    # Guards the guard: an import hidden inside a function still counts.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    import httpx\n    from sqlalchemy.orm import Session\n")
    assert {"httpx", "sqlalchemy"} <= imported_modules(sample)


def protocols_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(
            getattr(base, "id", getattr(base, "attr", None)) == "Protocol" for base in node.bases
        )
    ]


@pytest.mark.parametrize("path", modules_under("bot"), ids=relative)
def test_every_protocol_of_the_core_lives_in_a_ports_module(path: Path) -> None:
    if path.name != "ports.py":
        assert not protocols_in(path), f"{relative(path)} defines {protocols_in(path)}"


@pytest.mark.parametrize(
    "path", [p for package in PROJECT_PACKAGES for p in modules_under(package)], ids=relative
)
def test_no_module_is_too_long_to_read(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{relative(path)} has {lines} lines; split it by concern"


def test_the_core_keeps_few_modules_beside_its_stages() -> None:
    top = [p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= MAX_TOP_LEVEL_CORE_MODULES, sorted(top)


def test_no_module_is_named_like_the_discord_package() -> None:
    # adapters/chat/discord.py would shadow discord.py for every import in that package.
    assert not list(ROOT.glob("adapters/**/discord.py"))
