"""``digestbot compose`` with a model it cannot use: said on compose and in status.

A refused OPENAI_API_KEY (401) or an unreachable server falls back to offline summaries; the
operator is told in one line, and ``--require-model`` makes it a failure.
"""

from __future__ import annotations

from pathlib import Path

from storage.store import Store
from tests.builders import IN_WEEK, seed_week
from tests.cli_process import clean_env, run_digestbot
from tests.fakes.model_answers import demo_answer
from tests.fakes.openai_server import FakeOpenAI


async def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        await seed_week(store, IN_WEEK)
    finally:
        await store.aclose()
    return url


def problem_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if "the model was not used" in line]


async def test_a_refused_key_is_said_on_compose_and_in_status(tmp_path: Path) -> None:
    url = await seeded(tmp_path)
    async with FakeOpenAI(demo_answer, api_key="sk-right") as fake:
        env = clean_env(
            DIGEST_DATABASE_URL=url, OPENAI_API_KEY="sk-wrong", OPENAI_BASE_URL=fake.base_url
        )
        code, out, stderr = await run_digestbot(
            "compose", "--date", "2026-04-13", env=env, cwd=tmp_path
        )
        assert code == 0, stderr
        assert "(offline summaries)" in out
        (line,) = problem_lines(stderr)
        assert "refused OPENAI_API_KEY" in line
        assert "sk-wrong" not in out + stderr
        # Refused once is refused for the run: not a request per item.
        assert len(fake.requests) <= 3

        code, out, stderr = await run_digestbot("status", env=env, cwd=tmp_path)
        assert code == 0, stderr
        assert "refused OPENAI_API_KEY" in out

        code, _, stderr = await run_digestbot(
            "compose", "--date", "2026-04-13", "--force", "--require-model", env=env, cwd=tmp_path
        )
    assert code == 1
    (line,) = problem_lines(stderr)
    assert line.startswith("digestbot: the model was not used")


async def test_an_unreachable_model_is_said_and_require_model_fails(tmp_path: Path) -> None:
    url = await seeded(tmp_path)
    env = clean_env(
        DIGEST_DATABASE_URL=url,
        OPENAI_API_KEY="sk-any",
        OPENAI_BASE_URL="http://127.0.0.1:1/v1",
        DIGEST_LLM__TIMEOUT_S="5",
    )
    code, _, stderr = await run_digestbot(
        "compose", "--date", "2026-04-13", "--require-model", env=env, cwd=tmp_path
    )
    assert code == 1
    (line,) = problem_lines(stderr)
    assert "could not reach the model's server" in line


async def test_require_model_without_a_key_fails_before_composing(tmp_path: Path) -> None:
    url = await seeded(tmp_path)
    env = clean_env(DIGEST_DATABASE_URL=url)
    code, out, stderr = await run_digestbot(
        "compose", "--date", "2026-04-13", "--require-model", env=env, cwd=tmp_path
    )
    assert code == 1
    assert "OPENAI_API_KEY is not set" in stderr
    assert "Composed" not in out
