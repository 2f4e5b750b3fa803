"""Submitted links never reach private, loopback or link-local addresses, at any hop."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from adapters.sources.http_fetch import fetch_limited
from adapters.sources.safe_fetch import AddressPolicy, fetch_public_page, redirect_guard
from bot.app.wiring import build_http_client
from bot.ports import SourceError
from tests.fakes.http_server import FakeHttpServer, Reply

PAGE = b"<html><head><title>Hello</title></head><body><p>Hi</p></body></html>"
LOCAL = AddressPolicy(allow_private=True)


def resolver_mapping(table: dict[str, str]):  # type: ignore[no-untyped-def]
    async def resolve(host: str, port: int) -> list[str]:
        return [table.get(host, host)]

    return resolve


async def test_a_page_on_loopback_is_refused_by_default(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    url = http_server.route("/page", Reply(body=PAGE, content_type="text/html"))
    with pytest.raises(SourceError, match=r"refused: 127\.0\.0\.1 is a loopback address"):
        await fetch_public_page(client, url)
    assert http_server.requests == []


async def test_an_allowed_page_is_fetched_through_the_vetted_address(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/page", Reply(body=PAGE, content_type="text/html; charset=utf-8"))
    resolve = resolver_mapping({"news.test": "127.0.0.1"})
    body = await fetch_public_page(
        client, f"http://news.test:{http_server.port}/page", policy=LOCAL, resolver=resolve
    )
    assert body.text().startswith("<html>")
    assert body.url == f"http://news.test:{http_server.port}/page"
    assert http_server.requests[0].headers["Host"] == f"news.test:{http_server.port}"


async def test_every_redirect_hop_is_checked(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    # The first hop is a "public" name; its redirect points at the metadata service.
    class FirstHopOnly(AddressPolicy):
        def check(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
            return AddressPolicy().check(ip) if str(ip) == "169.254.169.254" else None

    metadata = "http://metadata.test/latest/meta-data/"
    http_server.route("/go", Reply(status=302, headers={"Location": metadata}))
    resolve = resolver_mapping({"public.test": "127.0.0.1", "metadata.test": "169.254.169.254"})
    with pytest.raises(
        SourceError,
        match=r"metadata\.test resolves to 169\.254\.169\.254, which is a link-local address",
    ):
        await fetch_public_page(
            client,
            f"http://public.test:{http_server.port}/go",
            policy=FirstHopOnly(),
            resolver=resolve,
        )
    assert len(http_server.requests) == 1


async def test_redirect_loops_end(http_server: FakeHttpServer, client: httpx.AsyncClient) -> None:
    url = http_server.route("/loop", Reply(status=301, headers={"Location": "/loop"}))
    with pytest.raises(SourceError, match="too many redirects"):
        await fetch_public_page(client, url, policy=LOCAL, max_redirects=3)
    assert len(http_server.requests) == 4


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http and https"),
        ("ftp://example.org/x", "only http and https"),
        ("javascript:alert(1)", "only http and https"),
        ("gopher://example.org/", "only http and https"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http://127.1/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://100.64.0.1/", "carrier-grade NAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[fd00::1]/", "private"),
    ],
)
async def test_links_that_must_never_be_fetched(
    client: httpx.AsyncClient, url: str, reason: str
) -> None:
    with pytest.raises(SourceError, match=reason):
        await fetch_public_page(client, url)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(body=b"%PDF-1.7", content_type="application/pdf"),
            "application/pdf, not a web page",
        ),
        (Reply(body=b"x" * 5000, content_type="text/html"), "over the 1000 bytes limit"),
        (Reply(endless=True, content_type="text/html"), "exceeded the 1000 bytes limit"),
        (Reply(body=PAGE, content_type="text/html", delay_s=2.0), "within 0.3 s"),
        (Reply(status=404, body=b"missing", content_type="text/html"), "HTTP 404"),
    ],
)
async def test_limits_and_errors(
    http_server: FakeHttpServer, client: httpx.AsyncClient, reply: Reply, reason: str
) -> None:
    url = http_server.route("/page", reply)
    with pytest.raises(SourceError, match=reason):
        await fetch_public_page(client, url, policy=LOCAL, max_bytes=1000, deadline_s=0.3)


@pytest.mark.parametrize(
    ("address", "label"),
    [
        ("fec0::1", "a site-local address"),
        ("2002:0a00:0001::1", "a private address"),  # 6to4 of 10.0.0.1
        ("2002:7f00:0001::", "a loopback address"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::", "a link-local address"),  # 6to4 of 169.254.169.254
        ("::ffff:192.168.1.1", "a private address"),
    ],
)
def test_private_addresses_hidden_in_ipv6_forms_are_refused(address: str, label: str) -> None:
    assert AddressPolicy().check(ipaddress.ip_address(address)) == label


def test_a_public_address_in_6to4_form_is_allowed() -> None:
    assert AddressPolicy().check(ipaddress.ip_address("2002:0808:0808::1")) is None


async def test_a_configured_source_never_follows_a_redirect_to_the_metadata_service(
    http_server: FakeHttpServer,
) -> None:
    # The feed's own address is trusted (it was configured); where it redirects is not.
    metadata = "http://169.254.169.254/latest/meta-data/"
    url = http_server.route("/feed", Reply(status=302, headers={"Location": metadata}))
    async with httpx.AsyncClient(
        follow_redirects=True, event_hooks={"response": [redirect_guard()]}
    ) as client:
        with pytest.raises(SourceError, match=r"169\.254\.169\.254 is a link-local address"):
            await fetch_limited(client, url)
    assert len(http_server.requests) == 1  # refused before any connection to the target


async def test_the_apps_client_refuses_private_redirects_unless_allowed(
    http_server: FakeHttpServer,
) -> None:
    moved = http_server.route("/moved", Reply(body=b"<rss/>"))
    url = http_server.route("/feed", Reply(status=301, headers={"Location": moved}))
    async with build_http_client() as client:
        with pytest.raises(SourceError, match=r"127\.0\.0\.1 is a loopback address"):
            await fetch_limited(client, url)
    async with build_http_client(allow_private_redirects=True) as client:
        assert (await fetch_limited(client, url)).content == b"<rss/>"


async def test_a_unicode_host_name_is_fetched_by_its_idna_name(
    http_server: FakeHttpServer, client: httpx.AsyncClient
) -> None:
    http_server.route("/page", Reply(body=PAGE, content_type="text/html"))
    resolve = resolver_mapping({"xn--bcher-kva.test": "127.0.0.1"})  # bücher.test
    body = await fetch_public_page(
        client, f"http://bücher.test:{http_server.port}/page", policy=LOCAL, resolver=resolve
    )
    assert body.text().startswith("<html>")
    assert http_server.requests[0].headers["Host"] == f"xn--bcher-kva.test:{http_server.port}"


async def test_a_host_name_idna_cannot_encode_is_one_line(client: httpx.AsyncClient) -> None:
    with pytest.raises(SourceError, match="not a valid host name"):
        await fetch_public_page(client, "http://" + "a" * 70 + ".test/")
