"""Fetch an editor-submitted web page without letting the link reach inside our network.

An editor's URL is untrusted: it could name the cloud metadata service, a database on
localhost or an admin page on the LAN. Every hop (redirects are followed by hand) is checked:
http(s) only, no credentials, and every address the host resolves to must be public. The
request then goes to the vetted address itself (the Host header and TLS SNI keep the name), so
a DNS answer that changes between the check and the connection cannot redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from adapters.sources.http_fetch import FetchedBody, fetch_limited
from bot.ports import SourceError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which addresses a submitted link may reach. Production: public addresses only."""

    allow_private: bool = False

    def check(self, ip: IpAddress) -> str | None:
        """Return what kind of address ``ip`` is when it is refused, or ``None`` if allowed."""
        if self.allow_private:
            return None
        if isinstance(ip, ipaddress.IPv6Address):
            if ip.is_site_local:  # fec0::/10: deprecated, but still routed inside some networks
                return "a site-local address"
            # An IPv4 address carried inside IPv6 (mapped, 6to4 2002::/16, Teredo) is judged
            # as the IPv4 address it reaches.
            embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
            if embedded is not None:
                return self.check(embedded)
        for refused, label in (
            (ip.is_loopback, "a loopback address"),
            (ip.is_link_local, "a link-local address"),
            (ip.is_unspecified, "an unspecified address"),
            (ip.is_multicast, "a multicast address"),
            (ip in _SHARED_ADDRESS_SPACE, "a carrier-grade NAT address"),
            (ip.is_private, "a private address"),
            (ip.is_reserved, "a reserved address"),
            (not ip.is_global, "not a public address"),
        ):
            if refused:
                return label
        return None


PUBLIC_ONLY = AddressPolicy()
"""The production policy: only public addresses."""


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the system resolver; numeric forms ("127.1") are normalised too."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _netloc(address: str, port: int, default_port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return host if port == default_port else f"{host}:{port}"


def _ascii_host(host: str) -> str:
    """Return ``host`` as it goes on the wire: a Unicode name in its IDNA (``xn--``) form."""
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        raise SourceError(f"refused: {host[:80]!r} is not a valid host name") from None


async def _vetted_address(url: str, policy: AddressPolicy, resolver: Resolver) -> tuple[str, int]:
    """Check one hop's URL; return the address to connect to and the port."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        raise SourceError("refused: the link is malformed") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise SourceError("refused: only http and https links are accepted")
    if parts.username or parts.password:
        raise SourceError("refused: links with a user name or password are not fetched")
    host = parts.hostname
    if not host:
        raise SourceError("refused: the link has no host")
    host = _ascii_host(host)
    try:
        addresses = await resolver(host, port)
    except (OSError, UnicodeError):
        raise SourceError(f"could not resolve {host}") from None
    if not addresses:
        raise SourceError(f"could not resolve {host}")
    for address in addresses:
        label = policy.check(ipaddress.ip_address(address.split("%", 1)[0]))
        if label and host == address:
            raise SourceError(f"refused: {address} is {label}")
        if label:
            raise SourceError(f"refused: {host} resolves to {address}, which is {label}")
    return addresses[0], port


async def fetch_public_page(
    client: httpx.AsyncClient,
    url: str,
    *,
    policy: AddressPolicy = PUBLIC_ONLY,
    resolver: Resolver | None = None,
    max_bytes: int = 2 * 1024 * 1024,
    deadline_s: float = 10.0,
    max_redirects: int = 5,
) -> FetchedBody:
    """Fetch a web page at a public address, within size and time limits.

    Returns the final response with ``url`` naming the page (not the address used). Raises
    `SourceError` for a refused link, a failed fetch, an error status or a non-page body.
    """
    resolve = resolver or system_resolver
    current = url.strip()
    for _hop in range(max_redirects + 1):
        address, port = await _vetted_address(current, policy, resolve)
        parts = urlsplit(current)
        scheme = parts.scheme.lower()
        default_port = 443 if scheme == "https" else 80
        pinned = urlunsplit(
            (scheme, _netloc(address, port, default_port), parts.path or "/", parts.query, "")
        )
        ascii_host = _ascii_host(parts.hostname or "")
        host_header = _netloc(ascii_host, port, default_port)
        extensions = {"sni_hostname": ascii_host} if scheme == "https" else None
        body = await fetch_limited(
            client,
            pinned,
            headers={
                "Host": host_header,
                "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
            },
            max_bytes=max_bytes,
            deadline_s=deadline_s,
            follow_redirects=False,
            extensions=extensions,
        )
        if body.status in _REDIRECTS and body.headers.get("location"):
            current = urljoin(current, body.headers["location"])
            continue
        if body.status != 200:
            raise SourceError(f"HTTP {body.status} from {parts.hostname}")
        if body.content_type and body.content_type not in PAGE_TYPES:
            raise SourceError(f"{parts.hostname} returned {body.content_type}, not a web page")
        return replace(
            body, url=urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))
        )
    raise SourceError(
        f"too many redirects (more than {max_redirects}) from {urlsplit(url).hostname}"
    )


def redirect_guard(
    policy: AddressPolicy = PUBLIC_ONLY, resolver: Resolver | None = None
) -> Callable[[httpx.Response], Awaitable[None]]:
    """Return an httpx response hook that refuses a redirect to a non-public address.

    Configured sources (feeds, HF, arXiv) are trusted where they start, not where they send
    us: a feed answering 302 to ``http://169.254.169.254/latest/meta-data/`` must not be
    followed. The hook runs before httpx builds the next request, so a refused target is
    never connected to.
    """
    resolve = resolver or system_resolver

    async def check(response: httpx.Response) -> None:
        if not response.has_redirect_location:
            return
        target = urljoin(str(response.url), response.headers["location"])
        await _vetted_address(target, policy, resolve)

    return check
