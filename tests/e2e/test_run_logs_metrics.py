"""``digestbot run`` as an operator sees it: JSON log lines and a Prometheus scrape.

A real process with ``DIGEST_LOG_FORMAT=json`` and its schedule on, delivering one edition to
a Slack and a Discord channel: every stderr line is one JSON object with a timestamp, level,
logger and message; each job run (ingest, compose, delivery) is one line with its task,
outcome and duration; ``/metrics``, scraped with a real client and parsed by
prometheus_client, holds the job histograms, last successes and build info; no token leaks.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import datetime
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.builders import DISCORD_CHANNELS, SLACK_CHANNELS, TIMEZONES, subscribed_and_composed
from tests.cli_process import both_platforms_env, clean_env, start_digestbot
from tests.fakes import discord_server, slack_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack


async def read_lines(stream: asyncio.StreamReader, into: list[str]) -> None:
    while line := await stream.readline():
        into.append(line.decode())


def records(lines: list[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in lines if line.strip()]


def health_url(lines: list[str]) -> str | None:
    for record in records(lines):
        message = str(record["message"])
        if message.startswith("health on http://"):
            return message.split()[2].removesuffix("/healthz")
    return None


async def test_json_logs_and_metrics_of_a_running_bot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    slack_channel, discord_channel = SLACK_CHANNELS[0], DISCORD_CHANNELS[0]
    await subscribed_and_composed(url, tmp_path, [slack_channel], [discord_channel], TIMEZONES[:1])
    async with FakeSlack(channels={slack_channel}) as slack, FakeDiscord() as discord:
        discord.add_channel(discord_channel, "digest")
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            DIGEST_CONFIG=str(tmp_path / "digestbot.toml"),
            DIGEST_SCHEDULE__ENABLED="true",
            DIGEST_SCHEDULE__POLL_S="0.2",
            DIGEST_SLACK__MIN_INTERVAL_S="0.05",
            DIGEST_LOG_FORMAT="json",
            **both_platforms_env(slack, discord),
        )
        process = await start_digestbot("run", env=env, cwd=tmp_path)
        assert process.stderr is not None
        lines: list[str] = []
        reader = asyncio.create_task(read_lines(process.stderr, lines))
        try:
            deadline = time.monotonic() + 60
            delivered: list[dict[str, object]] = []
            base = None
            while time.monotonic() < deadline and (len(delivered) < 2 or base is None):
                await asyncio.sleep(0.2)
                base = health_url(lines)
                delivered = [r for r in records(lines) if r.get("task") == "delivery"]
            assert base is not None, "".join(lines)
            async with httpx.AsyncClient(base_url=base) as client:
                scrape = await client.get("/metrics")
                live = await client.get("/livez")
                ready = await client.get("/readyz")
                health = (await client.get("/healthz")).json()
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=15)
            await reader
    assert process.returncode == 0, "".join(lines)

    logged = records(lines)  # every line is JSON: json.loads raised otherwise
    assert logged
    for record in logged:
        assert {"timestamp", "level", "logger", "message"} <= set(record), record
        datetime.fromisoformat(str(record["timestamp"]))
    jobs = [r for r in logged if "task" in r]
    by_task = {str(r["task"]) for r in jobs}
    assert {"ingest", "compose", "delivery"} <= by_task, jobs
    for job in jobs:
        assert isinstance(job["duration_s"], float | int)
        assert float(job["duration_s"]) >= 0
        assert job["outcome"] in {"ok", "failed", "skipped", "retry", "interrupted"}
    outcomes = {str(r["subject"]): r["outcome"] for r in jobs if r["task"] == "delivery"}
    assert outcomes == {f"slack:{slack_channel}": "ok", f"discord:{discord_channel}": "ok"}
    assert all(r["level"] == "INFO" for r in jobs if r["outcome"] == "ok")
    text = "".join(lines)
    for token in (slack_server.BOT_TOKEN, slack_server.APP_TOKEN, discord_server.BOT_TOKEN):
        assert token not in text
    assert "Traceback" not in text

    assert scrape.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
    durations = [
        s for s in families["digest_job_duration_seconds"].samples if s.name.endswith("_count")
    ]
    counts = {s.labels["task"]: s.value for s in durations}
    assert counts["delivery"] >= 2
    assert counts["ingest"] >= 1
    last = {
        s.labels["task"]: s.value for s in families["digest_last_success_timestamp_seconds"].samples
    }
    assert last["delivery"] > time.time() - 300
    (build,) = families["digest_build_info"].samples
    assert build.labels["version"] == health["version"] != ""
    assert "process_resident_memory_bytes" in families
    assert all("job" not in s.labels for f in families.values() for s in f.samples)
    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["ready"] is True
