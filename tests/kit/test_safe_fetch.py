"""The source-page fetcher: limits, redirects, refusals, decoding and text extraction.

Successful fetches go to a real HTTP server on loopback under the name `news.example`
(an injected resolver maps it to 127.0.0.1) with the local-development policy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import pickle
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from powerpost.kit.netguard import AddressPolicy, guarded_transport
from powerpost.kit.safe_fetch import (
    USER_AGENT,
    FetchedPage,
    FetchFailed,
    build_fetch_client,
    extract_readable_text,
    fetch_page,
)

LOCAL_DEV = AddressPolicy(allow_http=True, allow_loopback=True)
HTTP_NO_LOOPBACK = AddressPolicy(allow_http=True)
HTTPS_ONLY = AddressPolicy()


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html"})
    delay: float = 0.0
    # When set, the body is sent chunked (no Content-Length), `chunk_delay` apart.
    chunk_size: int | None = None
    chunk_delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]


class PageServer:
    """A tiny HTTP/1.1 server: routes map a path to a `Reply`; requests are recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.seen: list[Seen] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base(self) -> str:
        return f"http://news.example:{self.port}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, target, _ = request_line.split(" ", 2)
            headers = {}
            for line in filter(None, header_lines):
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            self.seen.append(Seen(method, target, headers))
            await self._reply(writer, self.routes.get(target, Reply(404, b"missing")))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._tasks.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _reply(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        await asyncio.sleep(reply.delay)
        lines = [f"HTTP/1.1 {reply.status} X", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in reply.headers.items()]
        if reply.chunk_size is None:
            if "Content-Length" not in reply.headers:
                lines.append(f"Content-Length: {len(reply.body)}")
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + reply.body)
            await writer.drain()
            return
        lines.append("Transfer-Encoding: chunked")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        for start in range(0, len(reply.body), reply.chunk_size):
            chunk = reply.body[start : start + reply.chunk_size]
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
            await asyncio.sleep(reply.chunk_delay)
        writer.write(b"0\r\n\r\n")
        await writer.drain()


class FakeResolver:
    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.table[host]


@pytest.fixture
async def server() -> AsyncIterator[PageServer]:
    srv = PageServer()
    await srv.start()
    yield srv
    await srv.stop()


@pytest.fixture
def resolver() -> FakeResolver:
    return FakeResolver({"news.example": ["127.0.0.1"], "internal.example": ["127.0.0.1"]})


@pytest.fixture
async def client(resolver: FakeResolver) -> AsyncIterator[httpx.AsyncClient]:
    async with build_fetch_client(LOCAL_DEV, resolver) as fetch_client:
        yield fetch_client


ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tidal power in 2025 | The Coastal Times</title>
  <meta property="og:title" content="Tidal power finally pays its way">
  <style>body { font-family: serif; } .ad { display: block; }</style>
  <script>window.analytics = {track: function () { return "TRACKING-SECRET"; }};</script>
</head>
<body>
  <header class="site"><a href="/">The Coastal Times</a><h1>Site banner</h1></header>
  <nav><ul><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li></ul></nav>
  <div class="promo">Subscribe today and save 50%</div>
  <main>
    <article>
      <h1>Tidal power finally pays its way</h1>
      <p class="byline">By Ana&nbsp;Lima &mdash; 3 March 2025</p>
      <p>Engineers in   Brittany say the
         new turbines produce power at
         &pound;40 per MWh &amp; falling.</p>
      <script>document.write("INLINE-SCRIPT-TEXT")</script>
      <h2>Why it matters</h2>
      <p>The Rance barrage&#8217;s successor runs <em>without</em> subsidies.</p>
      <div hidden>HIDDEN-TEXT</div>
      <p style="display: none">INVISIBLE-TEXT</p>
      <figure><svg viewBox="0 0 10 10"><title>SVG-TITLE</title></svg>
        <figcaption>A turbine being lowered at dawn.</figcaption></figure>
      <ul><li>Output: 240&nbsp;MW</li><li>Cost: &lt;&nbsp;&euro;1bn</li></ul>
      <form action="/comment"><label>COMMENT-FORM</label><textarea>x</textarea></form>
    </article>
    <aside>RELATED-LINKS</aside>
  </main>
  <iframe src="https://ads.example/">IFRAME-TEXT</iframe>
  <noscript>NOSCRIPT-TEXT</noscript>
  <footer>&copy; 2025 The Coastal Times. FOOTER-TEXT</footer>
</body>
</html>
"""

EXPECTED_ARTICLE_TEXT = (
    "Tidal power finally pays its way\n\n"
    "By Ana Lima \u2014 3 March 2025\n\n"
    "Engineers in Brittany say the new turbines produce power at \u00a340 per MWh & falling.\n\n"
    "Why it matters\n\n"
    "The Rance barrage\u2019s successor runs without subsidies.\n\n"
    "A turbine being lowered at dawn.\n\n"
    "Output: 240 MW\n"
    "Cost: < \u20ac1bn"
)


def test_extract_readable_text_from_an_article_page() -> None:
    title, text = extract_readable_text(ARTICLE_PAGE, max_chars=10_000)
    assert title == "Tidal power finally pays its way"
    assert text == EXPECTED_ARTICLE_TEXT
    for leaked in (
        "TRACKING-SECRET",
        "INLINE-SCRIPT",
        "HIDDEN-TEXT",
        "INVISIBLE-TEXT",
        "SVG-TITLE",
        "COMMENT-FORM",
        "RELATED-LINKS",
        "IFRAME-TEXT",
        "NOSCRIPT-TEXT",
        "FOOTER-TEXT",
        "Subscribe",
        "Sport",
        "font-family",
    ):
        assert leaked not in text


def test_extract_readable_text_without_article_keeps_body_minus_chrome() -> None:
    html = (
        "<html><head><title> Plain   page </title></head><body>"
        "<nav>Home | About</nav><h2>Notes</h2><p>First&nbsp;line<br>second line</p>"
        "<div>Block one</div><div>Block two</div><footer>Legal</footer></body></html>"
    )
    title, text = extract_readable_text(html, max_chars=1000)
    assert title == "Plain page"
    assert text == "Notes\n\nFirst line\nsecond line\n\nBlock one\nBlock two"


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<title>From title</title><h1>From h1</h1>", "From title"),
        ("<h1>First <b>heading</b></h1><h1>Second</h1><p>x</p>", "First heading"),
        (
            "<header><h1>Site</h1></header><h1>Outside</h1><article><h1>Story</h1></article>",
            "Story",
        ),
        ('<meta name="og:title" content=" Named &amp; meta "><title>T</title>', "Named & meta"),
        ("<p>No title at all</p>", ""),
        ("<title>Unclosed<body><p>Body</p>", "Unclosed"),
    ],
)
def test_extract_readable_text_title_fallbacks(html: str, title: str) -> None:
    assert extract_readable_text(html, max_chars=1000)[0] == title


def test_extract_readable_text_truncates_at_a_word_boundary() -> None:
    words = " ".join(f"word{i}" for i in range(500))
    _, text = extract_readable_text(f"<article><p>{words}</p></article>", max_chars=100)
    assert len(text) <= 100
    assert text.startswith("word0 word1 ")
    assert text.split()[-1].startswith("word")
    assert words.startswith(text)
    assert words[len(text)] == " "


def test_extract_readable_text_survives_malformed_markup() -> None:
    html = "<p>Kept <nav>menu <p>unclosed</nav> after</p><div><span>tail</div><![if x]>"
    _, text = extract_readable_text(html, max_chars=1000)
    assert "menu" not in text
    assert "unclosed" not in text
    assert text.split() == ["Kept", "after", "tail"]


async def test_fetch_page_returns_title_and_text(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    server.routes["/story"] = Reply(body=ARTICLE_PAGE.encode())
    url = f"{server.base}/story"
    page = await fetch_page(client, url, LOCAL_DEV)
    assert page == FetchedPage(
        url=url, final_url=url, title="Tidal power finally pays its way", text=EXPECTED_ARTICLE_TEXT
    )
    request = server.seen[0]
    assert request.method == "GET"
    assert request.headers["user-agent"] == USER_AGENT
    assert request.headers["host"] == f"news.example:{server.port}"
    assert "text/html" in request.headers["accept"]


async def test_fetch_page_follows_relative_redirects_and_keeps_chain_cookies(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    server.routes["/old"] = Reply(
        301, headers={"Location": "/consent", "Content-Type": "text/html"}
    )
    server.routes["/consent"] = Reply(
        302, headers={"Location": "story?from=old", "Set-Cookie": "consent=yes; Path=/"}
    )
    server.routes["/story?from=old"] = Reply(body=b"<article><p>Moved here.</p></article>")
    page = await fetch_page(client, f"{server.base}/old", LOCAL_DEV)
    assert page.url == f"{server.base}/old"
    assert page.final_url == f"{server.base}/story?from=old"
    assert page.text == "Moved here."
    assert server.paths() == ["/old", "/consent", "/story?from=old"]
    assert server.seen[2].headers.get("cookie") == "consent=yes"

    # Cookies live for one fetch only: the shared client does not keep them.
    await fetch_page(client, f"{server.base}/story?from=old", LOCAL_DEV)
    assert "cookie" not in server.seen[3].headers
    assert len(client.cookies) == 0


async def test_fetch_page_stops_after_max_redirects(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    server.routes["/loop"] = Reply(302, headers={"Location": "/loop"})
    with pytest.raises(FetchFailed, match=r"too many redirects \(more than 3\)"):
        await fetch_page(client, f"{server.base}/loop", LOCAL_DEV, max_redirects=3)
    assert server.paths() == ["/loop"] * 4


@pytest.mark.parametrize(
    ("location", "reason"),
    [
        ("https://169.254.169.254/latest/meta-data/", "169.254.169.254 is a private"),
        ("http://10.0.0.1/", "10.0.0.1 is a private"),
        ("http://[fd00::1]/", "fd00::1 is a private"),
        ("ftp://news.example/file.txt", "must use http or https"),
        ("javascript:alert(1)", "redirect to an invalid URL"),
        (
            "javascript://news.example/%0Aalert(1)",
            "redirect refused: the URL must use http or https",
        ),
        ("http://2130706433/", "host name is not valid"),
    ],
)
async def test_fetch_page_refuses_unsafe_redirects(
    server: PageServer, client: httpx.AsyncClient, location: str, reason: str
) -> None:
    server.routes["/go"] = Reply(302, headers={"Location": location})
    with pytest.raises(FetchFailed) as caught:
        await fetch_page(client, f"{server.base}/go", LOCAL_DEV)
    assert reason in caught.value.reason
    assert caught.value.reason.startswith("redirect")
    assert str(caught.value).startswith(f"could not fetch {server.base}/go: redirect")


@pytest.mark.parametrize("via", ["literal", "name"])
async def test_fetch_page_redirect_to_loopback_never_reaches_it(
    server: PageServer, resolver: FakeResolver, via: str
) -> None:
    # The first hop is a mocked public site; the loopback server stands in for an
    # internal service the redirect points at. Loopback is not allowed by this policy.
    target = "127.0.0.1" if via == "literal" else "internal.example"
    server.routes["/admin"] = Reply(body=b"<p>internal secrets</p>")

    def public_site(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": f"http://{target}:{server.port}/admin"})

    async with httpx.AsyncClient(
        transport=guarded_transport(HTTP_NO_LOOPBACK, resolver),
        mounts={"all://public.example": httpx.MockTransport(public_site)},
    ) as mixed_client:
        with pytest.raises(FetchFailed) as caught:
            await fetch_page(mixed_client, "http://public.example/story", HTTP_NO_LOOPBACK)
    if via == "literal":
        # Caught by fetch_page's own check of the Location.
        assert caught.value.reason == "redirect refused: 127.0.0.1 is a private or internal address"
    else:
        # The name passes the shape check; the transport refuses it at connect time.
        assert (
            caught.value.reason
            == "refused: internal.example resolves to a private or internal address"
        )
        assert resolver.calls == ["internal.example"]
    assert server.seen == []


async def test_fetch_page_refuses_bad_urls_before_any_request(
    resolver: FakeResolver, client: httpx.AsyncClient
) -> None:
    for url, reason in (
        ("http://news.example/", "must use https"),
        ("https://10.0.0.1/", "10.0.0.1 is a private"),
        ("https://user:pw@news.example/", "user name or password"),
    ):
        with pytest.raises(FetchFailed, match=reason) as caught:
            await fetch_page(client, url, HTTPS_ONLY)
        assert caught.value.url == url
    assert resolver.calls == []


async def test_fetch_page_reports_a_refused_dns_answer(
    server: PageServer, resolver: FakeResolver
) -> None:
    async with build_fetch_client(HTTP_NO_LOOPBACK, resolver) as strict_client:
        with pytest.raises(FetchFailed) as caught:
            await fetch_page(strict_client, f"{server.base}/story", HTTP_NO_LOOPBACK)
    assert caught.value.reason == "refused: news.example resolves to a private or internal address"
    assert server.seen == []


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"x" * 5_000),
        Reply(body=b"x" * 5_000, chunk_size=700),
        Reply(body=b"x" * 500, headers={"Content-Type": "text/html", "Content-Length": "5000"}),
        Reply(
            body=gzip.compress(b"<p>" + b"a" * 2_000_000),
            headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
        ),
    ],
    ids=["content-length", "chunked", "declared-length", "gzip-bomb"],
)
async def test_fetch_page_enforces_the_size_cap(
    server: PageServer, client: httpx.AsyncClient, reply: Reply
) -> None:
    server.routes["/big"] = reply
    with pytest.raises(FetchFailed, match="larger than 1000 bytes"):
        await fetch_page(client, f"{server.base}/big", LOCAL_DEV, max_bytes=1000)


async def test_fetch_page_decodes_gzip_within_the_cap(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    body = b"<html><body><p>" + b"compressed " * 50 + b"</p></body></html>"
    server.routes["/gz"] = Reply(
        body=gzip.compress(body),
        headers={"Content-Type": "text/html", "Content-Encoding": "gzip"},
        chunk_size=64,
    )
    page = await fetch_page(client, f"{server.base}/gz", LOCAL_DEV, max_bytes=len(body))
    assert page.text == ("compressed " * 50).strip()
    assert server.seen[0].headers["accept-encoding"] == "gzip"


async def test_fetch_page_refuses_unknown_content_encoding(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    server.routes["/br"] = Reply(
        body=b"\x1b\x00", headers={"Content-Type": "text/html", "Content-Encoding": "br"}
    )
    with pytest.raises(FetchFailed, match="unsupported content encoding br"):
        await fetch_page(client, f"{server.base}/br", LOCAL_DEV)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(delay=5.0, body=b"<p>late</p>"),
        Reply(body=b"<p>" + b"drip " * 40 + b"</p>", chunk_size=10, chunk_delay=0.1),
    ],
    ids=["slow-headers", "slow-body"],
)
async def test_fetch_page_deadline_covers_the_whole_fetch(
    server: PageServer, client: httpx.AsyncClient, reply: Reply
) -> None:
    server.routes["/slow"] = reply
    started = time.monotonic()
    with pytest.raises(FetchFailed, match=r"timed out after 0\.4 s"):
        await fetch_page(client, f"{server.base}/slow", LOCAL_DEV, timeout=0.4)
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("application/pdf", "application/pdf"),
        ("image/png", "image/png"),
        ("application/json; charset=utf-8", "application/json"),
        (None, "no content type"),
    ],
)
async def test_fetch_page_refuses_other_content_types(
    server: PageServer, client: httpx.AsyncClient, content_type: str | None, shown: str
) -> None:
    headers = {} if content_type is None else {"Content-Type": content_type}
    server.routes["/file"] = Reply(body=b"%PDF-1.7", headers=headers)
    with pytest.raises(FetchFailed) as caught:
        await fetch_page(client, f"{server.base}/file", LOCAL_DEV)
    assert caught.value.reason == f"not text/html or text/plain (got {shown})"


async def test_fetch_page_reports_http_errors_and_empty_pages(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    with pytest.raises(FetchFailed, match=r"HTTP 404$"):
        await fetch_page(client, f"{server.base}/nowhere", LOCAL_DEV)
    server.routes["/down"] = Reply(503, b"<p>maintenance</p>")
    with pytest.raises(FetchFailed, match=r"HTTP 503$"):
        await fetch_page(client, f"{server.base}/down", LOCAL_DEV)
    server.routes["/empty"] = Reply(body=b"<html><nav>only a menu</nav><script>x</script></html>")
    with pytest.raises(FetchFailed, match="no readable text"):
        await fetch_page(client, f"{server.base}/empty", LOCAL_DEV)


async def test_fetch_page_connection_refused(server: PageServer, client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(FetchFailed, match="could not connect to the server"):
        await fetch_page(client, f"http://news.example:{closed_port}/", LOCAL_DEV)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (
            "<p>caf\u00e9 cr\u00e8me</p>".encode("latin-1"),
            "text/html; charset=ISO-8859-1",
            "caf\u00e9 cr\u00e8me",
        ),
        (
            '<meta charset="windows-1252"><p>\u201cquoted\u201d</p>'.encode("cp1252"),
            "text/html",
            "\u201cquoted\u201d",
        ),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>\u043c\u0438\u0440</p>'.encode(
                "koi8-r"
            ),
            "text/html",
            "\u043c\u0438\u0440",
        ),
        ("\ufeff<p>bom \u00fc</p>".encode("utf-16-le"), "text/html", "bom \u00fc"),
        (b"<p>bad \xff byte</p>", "text/html", "bad \ufffd byte"),
        (b"<p>odd charset</p>", "text/html; charset=base64", "odd charset"),
    ],
)
async def test_fetch_page_decodes_declared_charsets(
    server: PageServer, client: httpx.AsyncClient, body: bytes, content_type: str, expected: str
) -> None:
    server.routes["/enc"] = Reply(body=body, headers={"Content-Type": content_type})
    page = await fetch_page(client, f"{server.base}/enc", LOCAL_DEV)
    assert page.text == expected


async def test_fetch_page_returns_plain_text_as_is(
    server: PageServer, client: httpx.AsyncClient
) -> None:
    text = "  Line one\n\n  indented <b>not html</b> &amp;\n\n\n"
    server.routes["/notes.txt"] = Reply(
        body=text.encode(), headers={"Content-Type": "text/plain; charset=utf-8"}
    )
    page = await fetch_page(client, f"{server.base}/notes.txt", LOCAL_DEV, max_chars=1000)
    assert page.title == ""
    assert page.text == "Line one\n\n  indented <b>not html</b> &amp;"
    short = await fetch_page(client, f"{server.base}/notes.txt", LOCAL_DEV, max_chars=8)
    assert short.text == "Line one"


async def test_fetch_page_does_not_follow_redirects_even_if_the_client_would(
    server: PageServer, resolver: FakeResolver
) -> None:
    server.routes["/go"] = Reply(302, headers={"Location": "https://169.254.169.254/"})
    async with httpx.AsyncClient(
        transport=guarded_transport(LOCAL_DEV, resolver), follow_redirects=True
    ) as following_client:
        with pytest.raises(FetchFailed, match="redirect refused"):
            await fetch_page(following_client, f"{server.base}/go", LOCAL_DEV)


def test_fetch_failed_message_is_client_safe() -> None:
    error = FetchFailed("https://example.com/\x00" + "a" * 500, "HTTP 404")
    message = str(error)
    assert "\x00" not in message
    assert message.startswith("could not fetch https://example.com/?aaa")
    assert message.endswith("...: HTTP 404")
    assert len(message) < 260
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (copy.url, copy.reason, str(copy)) == (error.url, error.reason, message)


async def test_build_fetch_client_settings(resolver: FakeResolver) -> None:
    async with build_fetch_client(HTTPS_ONLY, resolver) as fetch_client:
        assert fetch_client.follow_redirects is False
        assert fetch_client.headers["User-Agent"] == USER_AGENT
        assert fetch_client.timeout.connect == 5.0
        assert fetch_client.timeout.read == 10.0
