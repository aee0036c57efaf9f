"""Outbound-URL guard: refuse private and internal destinations (SSRF).

Two layers work together:

* `check_url_shape` / `resolve_public` validate a URL and its host up front, so callers
  can reject bad input with a clear message (webhook settings, `source_urls`).
* `guarded_transport` is an httpx transport whose TCP connections are opened only to
  addresses that passed the check *at connect time*. The host name is resolved once,
  every answer is checked, and the socket is opened to the checked IP literal, so a DNS
  answer that changes between validation and connection (rebinding) cannot reach an
  internal address. Redirect hops are new requests and pass through the same backend.

Messages of `UnsafeURL` are safe to show to API clients: they repeat what the client gave
and never reveal the internal addresses a name resolved to.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import unicodedata
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import anyio
import httpcore
import httpx

__all__ = [
    "AddressPolicy",
    "GuardedTransport",
    "Resolver",
    "UnsafeURL",
    "check_url_shape",
    "guarded_transport",
    "is_public_ip",
    "resolve_public",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL_LENGTH = 2048

_DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

_BLOCKED_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata endpoints
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # TEST-NET-1
        "192.88.99.0/24",  # deprecated 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # TEST-NET-2
        "203.0.113.0/24",  # TEST-NET-3
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, includes broadcast
    )
)

_GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
_NAT64_V6 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR_V6 = ipaddress.IPv6Network("2002::/16")
_BLOCKED_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
    )
)
_LOOPBACK_V4 = ipaddress.IPv4Network("127.0.0.0/8")
_LOOPBACK_V6 = ipaddress.IPv6Address("::1")

_SCHEME_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)")
_HOST_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?$")
_NUMERIC_LABEL = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$")


class UnsafeURL(ValueError):
    """A URL or destination that must not be fetched; the message is client-safe."""


@dataclass(frozen=True)
class AddressPolicy:
    """What the guard lets through beyond public HTTPS destinations."""

    allow_http: bool = False
    # Only for tests and an explicit local-development operator setting.
    allow_loopback: bool = False


def is_public_ip(ip: IPAddress) -> bool:
    """True when `ip` is a globally routable unicast address, safe to connect to.

    IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64 well-known prefix, 6to4)
    are judged by the embedded address; every other IPv6 address must be global unicast
    (2000::/3) outside the special-purpose blocks.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        # Zone identifiers would make comparisons scope-sensitive; judge the bare address.
        bare = ipaddress.IPv6Address(int(ip))
        if bare.ipv4_mapped is not None:
            return is_public_ip(bare.ipv4_mapped)
        if bare in _NAT64_V6:
            return is_public_ip(ipaddress.IPv4Address(int(bare) & 0xFFFFFFFF))
        if bare in _SIX_TO_FOUR_V6:
            embedded = bare.sixtofour
            return embedded is not None and is_public_ip(embedded)
        if bare not in _GLOBAL_UNICAST_V6 or any(bare in net for net in _BLOCKED_V6):
            return False
        return _passes_stdlib_flags(bare)
    if any(ip in net for net in _BLOCKED_V4):
        return False
    return _passes_stdlib_flags(ip)


def _passes_stdlib_flags(ip: IPAddress) -> bool:
    # Belt and braces: the stdlib tables change between Python releases, so an address
    # must pass both our explicit lists and every stdlib flag.
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def _is_loopback(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        return ipaddress.IPv6Address(int(ip)) == _LOOPBACK_V6
    return ip in _LOOPBACK_V4


def _address_allowed(ip: IPAddress, policy: AddressPolicy) -> bool:
    return is_public_ip(ip) or (policy.allow_loopback and _is_loopback(ip))


def _parse_ip_literal(host: str) -> IPAddress | None:
    candidate = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _check_host_name(host: str) -> None:
    """Refuse host names that are not plain DNS names (after IDNA encoding)."""
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        raise UnsafeURL("the URL host name is not valid")
    labels = name.lower().split(".")
    if not all(_HOST_LABEL.match(label) for label in labels):
        raise UnsafeURL("the URL host name is not valid")
    # The system resolver reads "127.1", "2130706433" or "0x7f.1" as IPv4 addresses;
    # no real domain ends in a numeric label, so such hosts are refused outright.
    if _NUMERIC_LABEL.match(labels[-1]):
        raise UnsafeURL("the URL host name is not valid")


def check_url_shape(url: str, policy: AddressPolicy) -> httpx.URL:
    """Validate a URL before any network activity and return it parsed.

    Refuses: other schemes than https (http too when `policy.allow_http`), a missing
    host, credentials in the URL, ports outside 1-65535, more than 2048 characters,
    whitespace or control characters, malformed host names, `localhost`, and IP
    literals that are not public (loopback passes only when the policy allows it).
    Host names are not resolved here; `resolve_public` and `guarded_transport` do that.
    """
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"the URL is longer than {MAX_URL_LENGTH} characters")
    if any(unicodedata.category(ch)[0] in "CZ" for ch in url):
        raise UnsafeURL("the URL contains whitespace or control characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        raise UnsafeURL("the URL is not valid") from None

    if parsed.scheme == "http" and policy.allow_http:
        pass
    elif parsed.scheme != "https":
        allowed = "http or https" if policy.allow_http else "https"
        raise UnsafeURL(f"the URL must use {allowed}")

    authority = _SCHEME_AUTHORITY.match(url)
    if authority is None or not parsed.host:
        raise UnsafeURL("the URL has no host")
    if "@" in authority.group(1) or parsed.userinfo:
        raise UnsafeURL("the URL must not contain a user name or password")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise UnsafeURL("the URL port is out of range")

    host = parsed.host
    ip = _parse_ip_literal(host)
    if ip is not None:
        if "%" in host:
            raise UnsafeURL("the URL host must not carry an IPv6 zone")
        if not _address_allowed(ip, policy):
            raise UnsafeURL(f"{host} is a private or internal address")
        return parsed

    _check_host_name(parsed.raw_host.decode("ascii", errors="replace"))
    bare = host.rstrip(".").lower()
    if not policy.allow_loopback and (bare == "localhost" or bare.endswith(".localhost")):
        raise UnsafeURL(f"{host} is a private or internal address")
    return parsed


async def _system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_public(
    host: str,
    port: int,
    policy: AddressPolicy,
    resolver: Resolver | None = None,
) -> list[str]:
    """Resolve `host` and return its addresses, all of them checked.

    Every answer must be public (or loopback, 127.0.0.0/8 and ::1 only, when the policy
    allows it); a single internal answer refuses the whole name, since the caller could
    otherwise be steered to it. IP-literal hosts are checked without resolving.
    Raises `UnsafeURL` when refused and `OSError` when the name does not resolve.
    """
    literal = _parse_ip_literal(host)
    if literal is not None:
        if not _address_allowed(literal, policy):
            raise UnsafeURL(f"{host} is a private or internal address")
        return [str(literal)]

    _check_host_name(host)
    answers = await (resolver or _system_resolver)(host, port)
    if not answers:
        raise OSError(f"{host} did not resolve to any address")
    addresses: list[str] = []
    for answer in answers:
        ip = _parse_ip_literal(answer)
        if ip is None or not _address_allowed(ip, policy):
            raise UnsafeURL(f"{host} resolves to a private or internal address")
        addresses.append(str(ip))
    return list(dict.fromkeys(addresses))


class _GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to addresses checked by `resolve_public`."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver | None) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # One deadline covers resolution and every connection attempt.
        try:
            with anyio.fail_after(timeout):
                try:
                    addresses = await resolve_public(host, port, self._policy, self._resolver)
                except OSError as exc:
                    raise httpcore.ConnectError(f"{host} could not be resolved") from exc
                last_error: Exception | None = None
                for address in addresses:
                    try:
                        # TLS is started later over this stream with the URL's host name
                        # as server_hostname, so certificates are still verified for the
                        # name while the socket goes to the address that was checked.
                        return await self._inner.connect_tcp(
                            address,
                            port,
                            local_address=local_address,
                            socket_options=socket_options,
                        )
                    except httpcore.ConnectError as exc:
                        last_error = exc
                raise httpcore.ConnectError(f"could not connect to {host}") from last_error
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host} timed out") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's backend interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix socket connections are not allowed")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` whose connections go through the address guard.

    Proxies and unix sockets are not accepted: both would connect somewhere other than
    the checked address.
    """

    def __init__(
        self,
        policy: AddressPolicy,
        resolver: Resolver | None = None,
        *,
        verify: ssl.SSLContext | str | bool = True,
        cert: Any = None,
        trust_env: bool = True,
        http1: bool = True,
        http2: bool = False,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        local_address: str | None = None,
        retries: int = 0,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> None:
        # AsyncHTTPTransport keeps all its state in `_pool` and builds it in __init__
        # without a `network_backend` argument, so the pool is built here instead, with
        # the same settings httpx would use plus the guarded backend. Not calling the
        # parent __init__ avoids building (and loading CA certificates for) a pool that
        # would be thrown away.
        self.policy = policy
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, cert=cert, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=http1,
            http2=http2,
            local_address=local_address,
            retries=retries,
            socket_options=socket_options,
            network_backend=_GuardedNetworkBackend(policy, resolver),
        )


def guarded_transport(
    policy: AddressPolicy,
    resolver: Resolver | None = None,
    **transport_kwargs: Any,
) -> httpx.AsyncBaseTransport:
    """Build an httpx transport that connects only to addresses allowed by `policy`.

    `transport_kwargs` are those of `httpx.AsyncHTTPTransport` (verify, cert, trust_env,
    http1, http2, limits, local_address, retries, socket_options); `proxy` and `uds`
    are refused. The URL scheme is not checked here: pair it with `check_url_shape`.
    """
    for refused in ("proxy", "uds"):
        if transport_kwargs.get(refused) is not None:
            raise TypeError(f"guarded_transport does not support {refused}=")
        transport_kwargs.pop(refused, None)
    return GuardedTransport(policy, resolver, **transport_kwargs)
