"""The main job with OPENAI_API_KEY set: the demo's edition is written by the model.

`digestbot demo` runs as a real subprocess; OPENAI_BASE_URL points the openai client at the
fake OpenAI-compatible server on 127.0.0.1, which this test's event loop keeps serving.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli_process import clean_env, run_digestbot
from tests.fakes.model_answers import demo_answer
from tests.fakes.openai_server import FakeOpenAI


async def test_demo_uses_the_model_when_a_key_is_set(tmp_path: Path) -> None:
    async with FakeOpenAI(demo_answer) as fake:
        env = clean_env(OPENAI_API_KEY="sk-demo", OPENAI_BASE_URL=fake.base_url)
        code, output, stderr = await run_digestbot("demo", env=env, cwd=tmp_path)
    assert code == 0, stderr
    assert "Agents Get Audited, Models Get Faster" in output
    assert "(offline summaries)" not in output
    assert "LLM: " in output
    assert output.count("It explains what changes in practice.") >= 12
    assert "sk-demo" not in output + stderr
    purposes = {r.purpose for r in fake.requests}
    assert purposes == {"relevance", "item_summary", "edition_intro"}
