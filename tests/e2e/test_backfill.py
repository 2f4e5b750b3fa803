"""Backfill end to end: a real ``digestbot`` asks HF for past days, then composes the Monday."""

from __future__ import annotations

import json
from pathlib import Path

from adapters.sources.sample import api_item
from tests.cli_process import clean_env, start_digestbot
from tests.conftest import data_file
from tests.fakes.http_server import FakeHttpServer, RecordedRequest, Reply

RECORDED_DAY = "2026-04-08"


async def test_backfill_asks_hf_day_by_day_and_composes_each_monday(tmp_path: Path) -> None:
    recorded = json.loads(data_file(f"hf_daily_papers_{RECORDED_DAY}__senmo996.json").read_bytes())
    day = json.dumps([api_item(record) for record in recorded["papers"]]).encode()
    empty_atom = data_file("arxiv_empty_result.atom").read_bytes()

    def hf(request: RecordedRequest) -> Reply:
        body = day if request.query.get("date") == RECORDED_DAY else b"[]"
        return Reply(body=body if request.query.get("p") == "0" else b"[]",
                     content_type="application/json")  # fmt: skip

    async with FakeHttpServer() as server:
        server.route("/api/daily_papers", hf)
        server.route("/api/query", Reply(body=empty_atom, content_type="application/atom+xml"))
        env = clean_env(
            DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'digest.db'}",
            DIGEST_SOURCES__HF__URL=server.url("/api/daily_papers"),
            DIGEST_SOURCES__ARXIV__URL=server.url("/api/query"),
            DIGEST_SOURCES__SEMANTIC_SCHOLAR__ENABLED="false",
        )
        # The default feeds would reach the network: none here.
        (tmp_path / "digestbot.toml").write_text("[sources]\nfeeds = []\n")
        process = await start_digestbot(
            "backfill", "--since", "2026-04-07", "--until", "2026-04-13", env=env, cwd=tmp_path
        )
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    asked = [r.query for r in server.requests_to("/api/daily_papers")]
    assert sorted({q["date"] for q in asked}) == [f"2026-04-{d:02d}" for d in range(7, 14)]
    assert all("week" not in q for q in asked)
    (arxiv,) = server.requests_to("/api/query")
    assert "submittedDate:[202604070000 TO 202604132359]" in arxiv.query["search_query"]
    text = out.decode()
    assert "Edition: edition of 2026-04-13: 12 items chosen from" in text
    assert f"from {recorded['paper_count']} candidates" in text
    assert "Composing" in err.decode()
