"""``digestbot doctor`` as a real process against healthy and broken fakes of every dependency.

Each check is one line (``ok``, ``FAIL`` or ``skip`` with why); any FAIL exits 1; nothing is
created, migrated or posted, and no traceback is ever printed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from bot.domain import Subscription
from storage.db import upgrade
from storage.store import Store
from tests.cli_process import both_platforms_env, clean_env, run_digestbot
from tests.fakes import discord_server
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.http_server import FakeHttpServer, Reply
from tests.fakes.openai_server import ChatAnswer, ChatRequest, FakeOpenAI
from tests.fakes.slack_manifest import SlackManifest
from tests.fakes.slack_server import FakeSlack

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:x</id>
<updated>2026-04-10T10:00:00Z</updated></feed>"""


def ping(request: ChatRequest) -> ChatAnswer:
    return ChatAnswer.json({"ok": True})


def lines_of(out: str) -> dict[str, str]:
    """Return each check's line by its name (the second column)."""
    found = {}
    for line in out.splitlines():
        state, name, *_ = line.split()
        found[name] = line
        assert state in ("ok", "FAIL", "skip"), line
    return found


def sources_toml(server: FakeHttpServer, feed_path: str = "/feed") -> str:
    return f"""
[sources.hf]
url = "{server.url("/hf")}"
[sources.arxiv]
url = "{server.url("/arxiv")}"
[sources.semantic_scholar]
url = "{server.url("/s2")}"
[[sources.feeds]]
name = "blog"
url = "{server.url(feed_path)}"
"""


def serve_sources(server: FakeHttpServer) -> None:
    server.route("/hf", Reply(body=b"[]", content_type="application/json"))
    server.route("/arxiv", Reply(body=ATOM, content_type="application/atom+xml"))
    server.route("/feed", Reply(body=ATOM, content_type="application/atom+xml"))
    server.route("/s2/paper/search", Reply(body=b'{"data": []}', content_type="application/json"))


async def test_every_check_passes_against_healthy_fakes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    store = await Store.open(url)
    try:
        subscription = Subscription(
            "discord", discord_server.GUILD_ID, discord_server.TEXT_CHANNEL, 0, "09:00", "UTC", None
        )
        await store.subscribe(subscription, "cli", datetime(2026, 4, 13, tzinfo=UTC))
    finally:
        await store.aclose()
    async with (
        FakeSlack() as slack,
        FakeDiscord() as discord,
        FakeOpenAI(ping, api_key="sk-right") as model,
        FakeHttpServer() as server,
    ):
        serve_sources(server)
        (tmp_path / "digestbot.toml").write_text(sources_toml(server), encoding="utf-8")
        env = clean_env(
            DIGEST_DATABASE_URL=url,
            OPENAI_API_KEY="sk-right",
            OPENAI_BASE_URL=model.base_url,
            **both_platforms_env(slack, discord),
        )
        code, out, err = await run_digestbot("doctor", env=env, cwd=tmp_path)
        posted = [c for c in slack.calls if c[0] != "auth.test"]
        sends = discord.sends()
    assert (code, err) == (0, ""), out + err
    checks = lines_of(out)
    assert set(checks) == {
        "database",
        "slack",
        "slack-scopes",
        "discord",
        f"discord:{discord_server.TEXT_CHANNEL}",
        "model",
        "source:hf",
        "source:arxiv",
        "source:blog",
        "source:semantic_scholar",
    }
    assert all(line.startswith("ok") for line in checks.values()), out
    assert f"all {len(SlackManifest.load().scopes)} of slack-manifest.yml" in checks["slack-scopes"]
    assert "#llm-digest" in checks[f"discord:{discord_server.TEXT_CHANNEL}"]
    assert len(model.requests) == 1
    assert (posted, sends) == ([], [])  # a check posts nothing
    assert "sk-right" not in out
    # Each source is asked for one result only.
    (arxiv,) = server.requests_to("/arxiv")
    assert arxiv.query["max_results"] == "1"
    (hf,) = server.requests_to("/hf")
    assert hf.query["limit"] == "1"
    (s2,) = server.requests_to("/s2/paper/search")
    assert s2.query["limit"] == "1"


async def test_every_broken_dependency_is_one_fail_line(tmp_path: Path) -> None:
    async with (
        FakeSlack(missing_scopes={"reactions:read", "im:write"}) as slack,
        FakeDiscord() as discord,
        FakeOpenAI(ping, api_key="sk-right") as model,
        FakeHttpServer() as server,
    ):
        serve_sources(server)
        server.route("/broken-feed", Reply(status=500, body=b"oops"))
        papers = discord.add_channel(
            "1400000000000000009",
            "papers-no-threads",
            deny_bot=discord_server.CREATE_PUBLIC_THREADS | discord_server.EMBED_LINKS,
        )
        # The settings file's subscriptions count: the database does not exist yet.
        toml = sources_toml(server, "/broken-feed") + (
            '\n[[subscriptions]]\nplatform = "discord"\n'
            f'workspace = "{discord_server.GUILD_ID}"\nchannel = "{papers["id"]}"\n'
            '\n[[subscriptions]]\nplatform = "discord"\n'
            f'workspace = "{discord_server.GUILD_ID}"\nchannel = "1400000000000000404"\n'
        )
        (tmp_path / "digestbot.toml").write_text(toml, encoding="utf-8")
        env = clean_env(
            DIGEST_DATABASE_URL=f"sqlite:///{tmp_path / 'digest.db'}",
            OPENAI_API_KEY="sk-wrong",
            OPENAI_BASE_URL=model.base_url,
            DIGEST_SOURCES__HF__URL="http://127.0.0.1:1/hf",
            **both_platforms_env(slack, discord),
        )
        code, out, err = await run_digestbot("doctor", env=env, cwd=tmp_path)
    assert code == 1
    assert "Traceback" not in out + err
    assert err.strip() == (
        "digestbot: 7 of 11 checks failed: database, slack-scopes, "
        f"discord:{papers['id']}, discord:1400000000000000404, model, source:hf, source:blog"
    )
    checks = lines_of(out)
    assert checks["database"].startswith("FAIL")
    assert "digestbot db upgrade" in checks["database"]
    assert not (tmp_path / "digest.db").exists(), "doctor never creates the database"
    assert checks["slack"].startswith("ok")
    assert "missing im:write, reactions:read" in checks["slack-scopes"]
    assert (
        "the bot lacks Embed Links, Create Public Threads in #papers-no-threads"
        in checks[f"discord:{papers['id']}"]
    )
    assert "not found" in checks["discord:1400000000000000404"]
    assert "HTTP 401" in checks["model"]
    assert "sk-wrong" not in out
    assert "could not reach 127.0.0.1" in checks["source:hf"]
    assert "HTTP 500" in checks["source:blog"]
    assert checks["source:arxiv"].startswith("ok")


async def test_refused_tokens_fail_and_missing_ones_are_skipped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'digest.db'}"
    upgrade(url)
    async with FakeSlack() as slack, FakeDiscord() as discord, FakeHttpServer() as server:
        serve_sources(server)
        (tmp_path / "digestbot.toml").write_text(sources_toml(server), encoding="utf-8")
        env = clean_env(DIGEST_DATABASE_URL=url, **both_platforms_env(slack, discord))
        env |= {"SLACK_BOT_TOKEN": "xoxb-revoked", "DISCORD_BOT_TOKEN": "revoked.token"}
        code, out, err = await run_digestbot("doctor", env=env, cwd=tmp_path)
        assert code == 1
        checks = lines_of(out)
        assert "Slack refused SLACK_BOT_TOKEN (invalid_auth)" in checks["slack"]
        assert "slack-scopes" not in checks
        assert "Discord refused DISCORD_BOT_TOKEN" in checks["discord"]
        assert checks["model"].startswith("skip")
        assert "OPENAI_API_KEY is not set" in checks["model"]

        env = clean_env(DIGEST_DATABASE_URL=url)
        code, out, err = await run_digestbot("doctor", env=env, cwd=tmp_path)
    assert (code, err) == (0, ""), out
    checks = lines_of(out)
    assert checks["slack"].startswith("skip")
    assert checks["discord"].startswith("skip")
    assert checks["model"].startswith("skip")
    assert checks["database"].startswith("ok")
