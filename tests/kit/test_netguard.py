"""The outbound-URL guard: address classification, URL shape, and connect-time refusal.

Connect-time tests run a real HTTP server on loopback so that a request the guard let
through would actually succeed; each refusal asserts the server saw no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from powerpost.kit.netguard import (
    AddressPolicy,
    UnsafeURL,
    check_url_shape,
    guarded_transport,
    is_public_ip,
    resolve_public,
)

HTTPS_ONLY = AddressPolicy()
HTTP_ALLOWED = AddressPolicy(allow_http=True)
LOCAL_DEV = AddressPolicy(allow_http=True, allow_loopback=True)
PUBLIC_IP = "93.184.215.14"


class LoopbackServer:
    """Answers every request with 200 "leaked" and records what reached it."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[dict[str, str]] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=tls)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            seen = {"request_line": request_line}
            for line in filter(None, header_lines):
                name, _, value = line.partition(":")
                seen[name.strip().lower()] = value.strip()
            self.requests.append(seen)
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 6\r\nConnection: close\r\n\r\nleaked"
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


@pytest.fixture
async def server() -> AsyncIterator[LoopbackServer]:
    srv = LoopbackServer()
    await srv.start()
    yield srv
    await srv.stop()


class FakeResolver:
    """Answers from a table: each host maps to successive answers, the last repeats."""

    def __init__(self, table: dict[str, list[list[str]]], delay: float = 0.0) -> None:
        self.table = table
        self.delay = delay
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        index = sum(1 for seen in self.calls if seen == host)
        self.calls.append(host)
        if self.delay:
            await asyncio.sleep(self.delay)
        answers = self.table.get(host)
        if answers is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return answers[min(index, len(answers) - 1)]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.255.0.9", False),
        ("10.0.0.1", False),
        ("10.255.255.255", False),
        ("172.16.0.1", False),
        ("172.31.255.254", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("100.127.255.254", False),
        ("0.0.0.0", False),  # noqa: S104 - an address under test, not a bind
        ("0.1.2.3", False),
        ("224.0.0.1", False),
        ("239.255.255.250", False),
        ("255.255.255.255", False),
        ("240.0.0.1", False),
        ("192.0.0.8", False),
        ("192.0.2.10", False),
        ("198.18.0.1", False),
        ("198.51.100.7", False),
        ("203.0.113.9", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("fec0::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::7f00:1", False),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b:1::1", False),
        ("2002:7f00:1::1", False),
        ("2002:a00:1::1", False),
        ("2001::1", False),
        ("2001:db8::1", False),
        ("3fff::1", False),
        ("100::1", False),
        ("8.8.8.8", True),
        ("1.1.1.1", True),
        ("172.32.0.1", True),
        ("100.128.0.1", True),
        (PUBLIC_IP, True),
        ("2606:4700::1111", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
    ],
)
def test_is_public_ip(address: str, public: bool) -> None:
    assert is_public_ip(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "policy", "host"),
    [
        ("https://example.com/a/b?c=d#e", HTTPS_ONLY, "example.com"),
        ("https://Example.COM:8443/", HTTPS_ONLY, "example.com"),
        ("https://bücher.de/", HTTPS_ONLY, "bücher.de"),
        ("https://[2606:4700::1111]/", HTTPS_ONLY, "2606:4700::1111"),
        ("https://8.8.8.8/dns", HTTPS_ONLY, "8.8.8.8"),
        ("http://example.com/", HTTP_ALLOWED, "example.com"),
        ("http://127.0.0.1:8000/", LOCAL_DEV, "127.0.0.1"),
        ("http://[::1]:8000/", LOCAL_DEV, "::1"),
        ("http://localhost:8000/", LOCAL_DEV, "localhost"),
    ],
)
def test_check_url_shape_accepts(url: str, policy: AddressPolicy, host: str) -> None:
    parsed = check_url_shape(url, policy)
    assert isinstance(parsed, httpx.URL)
    assert parsed.host == host


@pytest.mark.parametrize(
    ("url", "policy", "reason"),
    [
        ("http://example.com/", HTTPS_ONLY, "must use https"),
        ("ftp://example.com/file", HTTPS_ONLY, "must use https"),
        ("ftp://example.com/file", HTTP_ALLOWED, "must use http or https"),
        ("javascript:alert(1)", HTTP_ALLOWED, "must use http or https"),
        ("file:///etc/passwd", HTTPS_ONLY, "must use https"),
        ("//example.com/", HTTPS_ONLY, "must use https"),
        ("https://", HTTPS_ONLY, "no host"),
        ("https:///etc/passwd", HTTPS_ONLY, "no host"),
        ("https:example.com", HTTPS_ONLY, "no host"),
        ("https://user:pass@example.com/", HTTPS_ONLY, "user name or password"),
        ("https://user@example.com/", HTTPS_ONLY, "user name or password"),
        ("https://@example.com/", HTTPS_ONLY, "user name or password"),
        ("https://example.com:0/", HTTPS_ONLY, "port"),
        ("https://example.com:65536/", HTTPS_ONLY, "port"),
        ("https://example.com/" + "a" * 2048, HTTPS_ONLY, "longer than 2048"),
        ("https://example.com/a b", HTTPS_ONLY, "whitespace or control"),
        ("https://example.com/\tx", HTTPS_ONLY, "whitespace or control"),
        ("https://example.com/\x00", HTTPS_ONLY, "whitespace or control"),
        (" https://example.com/", HTTPS_ONLY, "whitespace or control"),
        ("https://example.com/\u200b", HTTPS_ONLY, "whitespace or control"),
        ("https://exa%2fmple.com/", HTTPS_ONLY, "host name is not valid"),
        ("https://2130706433/", HTTPS_ONLY, "host name is not valid"),
        ("https://127.1/", HTTPS_ONLY, "host name is not valid"),
        ("https://0x7f.0.0.1/", HTTPS_ONLY, "host name is not valid"),
        ("https://127.0.0.1/", HTTPS_ONLY, "127.0.0.1 is a private or internal address"),
        ("https://10.0.0.8/", HTTPS_ONLY, "private or internal"),
        ("https://169.254.169.254/latest/meta-data/", HTTPS_ONLY, "private or internal"),
        ("https://[::1]/", HTTPS_ONLY, "private or internal"),
        ("https://[::ffff:127.0.0.1]/", LOCAL_DEV, "private or internal"),
        ("https://[fe80::1%25eth0]/", HTTPS_ONLY, "zone"),
        ("https://localhost/", HTTPS_ONLY, "private or internal"),
        ("https://admin.localhost./", HTTPS_ONLY, "private or internal"),
        ("http://10.0.0.8/", LOCAL_DEV, "private or internal"),
    ],
)
def test_check_url_shape_refuses(url: str, policy: AddressPolicy, reason: str) -> None:
    with pytest.raises(UnsafeURL, match=reason):
        check_url_shape(url, policy)


async def test_resolve_public_returns_checked_addresses() -> None:
    resolver = FakeResolver({"news.example": [[PUBLIC_IP, "2606:4700::1111", PUBLIC_IP]]})
    addresses = await resolve_public("news.example", 443, HTTPS_ONLY, resolver)
    assert addresses == [PUBLIC_IP, "2606:4700::1111"]
    assert resolver.calls == ["news.example"]


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["169.254.169.254"],
        ["10.0.0.5"],
        [PUBLIC_IP, "192.168.0.10"],
        ["::ffff:10.0.0.5"],
        ["fd00::5"],
        ["not-an-ip"],
    ],
)
async def test_resolve_public_refuses_any_internal_answer(answers: list[str]) -> None:
    resolver = FakeResolver({"evil.example": [answers]})
    with pytest.raises(UnsafeURL) as caught:
        await resolve_public("evil.example", 443, HTTPS_ONLY, resolver)
    message = str(caught.value)
    assert message == "evil.example resolves to a private or internal address"
    # The client gave a name, so the internal addresses behind it are not disclosed.
    assert not any(answer in message for answer in answers)


async def test_resolve_public_loopback_policy_allows_loopback_only() -> None:
    resolver = FakeResolver(
        {
            "dev.example": [["127.0.0.1", "127.0.0.2", "::1"]],
            "lan.example": [["127.0.0.1", "10.0.0.5"]],
            "meta.example": [["169.254.169.254"]],
            "mapped.example": [["::ffff:127.0.0.1"]],
        }
    )
    assert await resolve_public("dev.example", 80, LOCAL_DEV, resolver) == [
        "127.0.0.1",
        "127.0.0.2",
        "::1",
    ]
    for host in ("lan.example", "meta.example", "mapped.example"):
        with pytest.raises(UnsafeURL):
            await resolve_public(host, 80, LOCAL_DEV, resolver)


async def test_resolve_public_checks_literals_without_resolving() -> None:
    resolver = FakeResolver({})
    assert await resolve_public("8.8.8.8", 443, HTTPS_ONLY, resolver) == ["8.8.8.8"]
    assert await resolve_public("[2606:4700::1111]", 443, HTTPS_ONLY, resolver) == [
        "2606:4700::1111"
    ]
    with pytest.raises(UnsafeURL, match=r"169\.254\.169\.254 is a private"):
        await resolve_public("169.254.169.254", 80, HTTPS_ONLY, resolver)
    # Names the system resolver would read as IPv4 numbers are refused before resolving.
    for host in ("2130706433", "127.1", "0x7f000001"):
        with pytest.raises(UnsafeURL):
            await resolve_public(host, 80, HTTPS_ONLY, resolver)
    assert resolver.calls == []


async def test_resolve_public_unresolvable_name_is_an_os_error() -> None:
    with pytest.raises(OSError, match="did not resolve"):
        await resolve_public(
            "empty.example", 443, HTTPS_ONLY, FakeResolver({"empty.example": [[]]})
        )
    with pytest.raises(socket.gaierror):
        await resolve_public("missing.example", 443, HTTPS_ONLY, FakeResolver({}))


@pytest.mark.parametrize("answer", ["127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1"])
async def test_transport_refuses_internal_answer_at_connect_time(
    server: LoopbackServer, answer: str
) -> None:
    resolver = FakeResolver({"evil.example": [[answer]]})
    transport = guarded_transport(HTTP_ALLOWED, resolver)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(UnsafeURL, match=r"evil\.example resolves to a private"):
            await client.get(f"http://evil.example:{server.port}/")
    assert resolver.calls == ["evil.example"]
    assert server.connections == 0


async def test_transport_refuses_internal_literal_without_shape_check(
    server: LoopbackServer,
) -> None:
    async with httpx.AsyncClient(transport=guarded_transport(HTTP_ALLOWED)) as client:
        for url in (
            f"http://127.0.0.1:{server.port}/",
            f"http://[::ffff:127.0.0.1]:{server.port}/",
            f"http://localhost:{server.port}/",
        ):
            with pytest.raises(UnsafeURL):
                await client.get(url)
    assert server.connections == 0


async def test_transport_connects_to_the_checked_address(server: LoopbackServer) -> None:
    # Positive control: with loopback allowed the same setup reaches the server, so the
    # refusals above are the guard's doing. The resolver would answer differently on a
    # second call; one call and a successful connection prove the socket went to the
    # address that was checked, while the Host header keeps the name.
    resolver = FakeResolver({"news.example": [["127.0.0.1"], ["127.0.0.3"]]})
    async with httpx.AsyncClient(transport=guarded_transport(LOCAL_DEV, resolver)) as client:
        response = await client.get(f"http://news.example:{server.port}/page?x=1")
    assert response.status_code == 200
    assert response.text == "leaked"
    assert resolver.calls == ["news.example"]
    assert server.requests[0]["request_line"] == "GET /page?x=1 HTTP/1.1"
    assert server.requests[0]["host"] == f"news.example:{server.port}"


async def test_transport_tries_each_checked_address_in_turn(server: LoopbackServer) -> None:
    # Nothing listens on 127.0.0.2 at this port, so the first attempt fails and the
    # second (also checked) address is used.
    resolver = FakeResolver({"news.example": [["127.0.0.2", "127.0.0.1"]]})
    async with httpx.AsyncClient(transport=guarded_transport(LOCAL_DEV, resolver)) as client:
        response = await client.get(f"http://news.example:{server.port}/")
    assert response.status_code == 200
    assert server.connections == 1


async def test_dns_rebinding_never_reaches_loopback(server: LoopbackServer) -> None:
    # The attacker's DNS answers a public address to the validation step and loopback
    # to the connection. A caller that validates first is still safe because the
    # transport checks the answer it actually connects with.
    resolver = FakeResolver({"rebind.example": [[PUBLIC_IP], ["127.0.0.1"]]})
    assert await resolve_public("rebind.example", server.port, HTTP_ALLOWED, resolver) == [
        PUBLIC_IP
    ]
    async with httpx.AsyncClient(transport=guarded_transport(HTTP_ALLOWED, resolver)) as client:
        with pytest.raises(UnsafeURL):
            await client.get(f"http://rebind.example:{server.port}/")
    assert resolver.calls == ["rebind.example", "rebind.example"]
    assert server.connections == 0


@pytest.mark.parametrize("target", ["literal", "name"])
async def test_every_redirect_hop_goes_through_the_guard(
    server: LoopbackServer, target: str
) -> None:
    location = (
        f"http://127.0.0.1:{server.port}/admin"
        if target == "literal"
        else f"http://internal.example:{server.port}/admin"
    )

    def first_hop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": location})

    resolver = FakeResolver({"internal.example": [["127.0.0.1"]]})
    async with httpx.AsyncClient(
        transport=guarded_transport(HTTP_ALLOWED, resolver),
        mounts={"all://news.example": httpx.MockTransport(first_hop)},
        follow_redirects=True,
    ) as client:
        with pytest.raises(UnsafeURL):
            await client.get("http://news.example/story")
    assert server.connections == 0


async def test_slow_resolution_is_a_connect_timeout() -> None:
    resolver = FakeResolver({"slow.example": [[PUBLIC_IP]]}, delay=5.0)
    transport = guarded_transport(HTTPS_ONLY, resolver)
    async with httpx.AsyncClient(
        transport=transport, timeout=httpx.Timeout(5.0, connect=0.2)
    ) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ConnectTimeout):
            await client.get("https://slow.example/")
    assert time.monotonic() - started < 2.0


async def test_unresolvable_name_is_a_connect_error() -> None:
    async with httpx.AsyncClient(
        transport=guarded_transport(HTTPS_ONLY, FakeResolver({}))
    ) as client:
        with pytest.raises(httpx.ConnectError, match=r"missing\.example could not be resolved"):
            await client.get("https://missing.example/")


def test_guarded_transport_refuses_proxy_and_unix_socket() -> None:
    with pytest.raises(TypeError, match="proxy"):
        guarded_transport(HTTPS_ONLY, proxy="http://proxy.example:3128")
    with pytest.raises(TypeError, match="uds"):
        guarded_transport(HTTPS_ONLY, uds="/run/docker.sock")
    assert isinstance(
        guarded_transport(HTTPS_ONLY, proxy=None, retries=1), httpx.AsyncBaseTransport
    )


def _self_signed_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    hashes = pytest.importorskip("cryptography.hazmat.primitives.hashes")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    ec = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.ec")
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_verifies_the_host_name_over_the_checked_address(tmp_path: Path) -> None:
    # The socket goes to the IP literal, yet TLS must still send SNI for and verify the
    # certificate against the URL's host name.
    cert_path, key_path = _self_signed_certificate(tmp_path, "news.example")
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert_path, key_path)
    sni_seen: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: sni_seen.append(name)
    tls_server = LoopbackServer()
    await tls_server.start(tls=server_context)
    try:
        resolver = FakeResolver({"news.example": [["127.0.0.1"]], "other.example": [["127.0.0.1"]]})
        transport = guarded_transport(
            LOCAL_DEV, resolver, verify=ssl.create_default_context(cafile=cert_path)
        )
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.get(f"https://news.example:{tls_server.port}/secure")
            assert response.text == "leaked"
            with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
                await client.get(f"https://other.example:{tls_server.port}/secure")
    finally:
        await tls_server.stop()
    assert sni_seen == ["news.example", "other.example"]
    assert tls_server.requests[0]["host"] == f"news.example:{tls_server.port}"
    assert len(tls_server.requests) == 1
