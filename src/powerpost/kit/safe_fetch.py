"""Fetch a web page for use as source material, safely and within fixed limits.

`fetch_page` follows redirects itself so that every hop is re-checked with
`check_url_shape`, reads at most `max_bytes` of (decompressed) body, enforces one
deadline over the whole fetch and turns HTML into readable text. The client it is given
should come from `build_fetch_client`, whose transport refuses internal addresses at
connect time (see `powerpost.kit.netguard`). Every failure is a `FetchFailed` whose
message can be shown to the API client.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import re
import unicodedata
import zlib
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

from powerpost.kit.netguard import (
    AddressPolicy,
    Resolver,
    UnsafeURL,
    check_url_shape,
    guarded_transport,
)
from powerpost.kit.numbers import whole_number

__all__ = [
    "USER_AGENT",
    "FetchFailed",
    "FetchedPage",
    "build_fetch_client",
    "extract_readable_text",
    "fetch_page",
]

USER_AGENT = "PowerPostSelfHosted/0.1 (+source fetch)"

_ACCEPT = "text/html,application/xhtml+xml;q=0.9,text/plain;q=0.8"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_TITLE_CHARS = 300
# Above this size the HTML parser runs in a thread so the event loop stays responsive.
_THREAD_PARSE_THRESHOLD = 100_000

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"<meta[^>]*?charset\s*=\s*[\"']?\s*([a-z0-9_.:\-]+)", re.IGNORECASE)


@dataclass(frozen=True)
class FetchedPage:
    url: str
    final_url: str
    title: str
    text: str


class FetchFailed(Exception):
    """A source URL could not be used; the message names the URL and the reason."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"could not fetch {_shown(url)}: {reason}")

    def __reduce__(self) -> tuple[type[FetchFailed], tuple[str, str]]:
        # Job runners may pickle exceptions; rebuild from both fields, not the message.
        return (type(self), (self.url, self.reason))


def _shown(value: str, limit: int = 200) -> str:
    cleaned = "".join(
        "?" if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in value
    )
    return cleaned if len(cleaned) <= limit else cleaned[:limit] + "..."


def build_fetch_client(
    policy: AddressPolicy, resolver: Resolver | None = None
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for `fetch_page`: guarded transport, no redirects, no cookies."""
    # A shared client must not carry one site's cookies into later fetches; fetch_page
    # keeps cookies only for the length of one redirect chain.
    jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    return httpx.AsyncClient(
        transport=guarded_transport(policy, resolver),
        follow_redirects=False,
        timeout=httpx.Timeout(10.0, connect=5.0),
        headers={"User-Agent": USER_AGENT, "Accept": _ACCEPT},
        cookies=jar,
        trust_env=False,
    )


async def fetch_page(
    client: httpx.AsyncClient,
    url: str,
    policy: AddressPolicy,
    *,
    max_bytes: int = 2_000_000,
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline over all hops, applied inside
    max_redirects: int = 5,
    max_chars: int = 20_000,
) -> FetchedPage:
    """Fetch `url` (an HTML or plain-text page) and return its title and readable text.

    Raises `FetchFailed` for a refused address, a timeout (`timeout` covers the whole
    fetch, redirects included), a body over `max_bytes`, a non-2xx status, a content type
    other than text/html or text/plain, more than `max_redirects` redirects, or a page
    without readable text.
    """
    try:
        target = check_url_shape(url, policy)
    except UnsafeURL as exc:
        raise FetchFailed(url, f"refused: {exc}") from None
    try:
        async with asyncio.timeout(timeout):
            return await _fetch(
                client,
                url,
                target,
                policy,
                max_bytes=max_bytes,
                max_redirects=max_redirects,
                max_chars=max_chars,
            )
    except TimeoutError:
        raise FetchFailed(url, f"timed out after {timeout:g} s") from None
    except httpx.TimeoutException:
        raise FetchFailed(url, "timed out waiting for the server") from None
    except UnsafeURL as exc:
        # Raised by the guarded transport at connect time (e.g. DNS answered an
        # internal address).
        raise FetchFailed(url, f"refused: {exc}") from None
    except httpx.ConnectError:
        raise FetchFailed(url, "could not connect to the server") from None
    except httpx.HTTPError:
        raise FetchFailed(url, "the connection failed") from None


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    target: httpx.URL,
    policy: AddressPolicy,
    *,
    max_bytes: int,
    max_redirects: int,
    max_chars: int,
) -> FetchedPage:
    cookies = httpx.Cookies()
    for _hop in range(max_redirects + 1):
        request = client.build_request(
            "GET", target, headers={"Accept": _ACCEPT, "Accept-Encoding": "gzip"}
        )
        cookies.set_cookie_header(request)
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.InvalidURL:
            # httpx prepares the next request from a Location even when not following
            # it, and a Location it cannot parse (e.g. "javascript:...") fails there.
            raise FetchFailed(url, "redirect to an invalid URL") from None
        try:
            cookies.extract_cookies(response)
            status = response.status_code
            if status in _REDIRECT_STATUSES:
                target = _redirect_target(url, response, policy)
                continue
            if not 200 <= status < 300:
                raise FetchFailed(url, f"HTTP {status}")
            is_html = _content_kind(url, response)
            body = await _read_capped(url, response, max_bytes)
        finally:
            await response.aclose()

        declared = response.charset_encoding
        if is_html:
            html = _decode(body, declared, sniff_meta=True)
            if len(html) > _THREAD_PARSE_THRESHOLD:
                title, text = await asyncio.to_thread(
                    extract_readable_text, html, max_chars=max_chars
                )
            else:
                title, text = extract_readable_text(html, max_chars=max_chars)
        else:
            title, text = (
                "",
                _truncate(_decode(body, declared, sniff_meta=False).strip(), max_chars),
            )
        if not text:
            raise FetchFailed(url, "the page has no readable text")
        return FetchedPage(url=url, final_url=str(target), title=title, text=text)
    raise FetchFailed(url, f"too many redirects (more than {max_redirects})")


def _redirect_target(url: str, response: httpx.Response, policy: AddressPolicy) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise FetchFailed(url, f"HTTP {response.status_code} without a Location header")
    try:
        joined = response.url.join(location)
    except httpx.InvalidURL:
        raise FetchFailed(url, "redirect to an invalid URL") from None
    try:
        return check_url_shape(str(joined), policy)
    except UnsafeURL as exc:
        raise FetchFailed(url, f"redirect refused: {exc}") from None


def _content_kind(url: str, response: httpx.Response) -> bool:
    """True for HTML, False for plain text; anything else fails the fetch."""
    mime = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    if mime in _HTML_TYPES:
        return True
    if mime == "text/plain":
        return False
    got = _shown(mime, 80) if mime else "no content type"
    raise FetchFailed(url, f"not text/html or text/plain (got {got})")


async def _read_capped(url: str, response: httpx.Response, max_bytes: int) -> bytes:
    too_large = FetchFailed(url, f"the page is larger than {max_bytes} bytes")
    declared_length = whole_number(response.headers.get("Content-Length"))
    if declared_length is not None and declared_length > max_bytes:
        raise too_large

    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    decoder: zlib._Decompress | None
    if encoding in ("", "identity"):
        decoder = None
    elif encoding in ("gzip", "x-gzip", "deflate"):
        # Decoded here rather than by httpx so that output is bounded per step: a small
        # compressed chunk cannot expand past the cap in memory (decompression bombs).
        decoder = zlib.decompressobj(zlib.MAX_WBITS | 32)
    else:
        raise FetchFailed(url, f"unsupported content encoding {_shown(encoding, 40)}")

    parts: list[bytes] = []
    raw_total = 0
    total = 0
    try:
        async for chunk in response.aiter_raw():
            raw_total += len(chunk)
            if raw_total > max_bytes:
                raise too_large
            if decoder is None:
                parts.append(chunk)
                total += len(chunk)
            else:
                pending = chunk
                while pending:
                    data = decoder.decompress(pending, max_bytes - total + 1)
                    parts.append(data)
                    total += len(data)
                    if total > max_bytes:
                        raise too_large
                    pending = decoder.unconsumed_tail
            if total > max_bytes:
                raise too_large
        if decoder is not None:
            tail = decoder.flush()
            parts.append(tail)
            total += len(tail)
            if total > max_bytes:
                raise too_large
    except zlib.error:
        raise FetchFailed(url, "the response could not be decompressed") from None
    return b"".join(parts)


def _decode(body: bytes, declared: str | None, *, sniff_meta: bool) -> str:
    for bom, bom_encoding in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_encoding, errors="replace")
    candidates: list[str] = []
    if declared:
        candidates.append(declared)
    if sniff_meta:
        match = _META_CHARSET.search(body[:4096])
        if match:
            meta = match.group(1).decode("ascii")
            # A <meta> can only be read if the bytes are ASCII-compatible, so a UTF-16
            # declaration there is wrong by construction (the HTML spec maps it to UTF-8).
            candidates.append("utf-8" if meta.lower().startswith("utf-16") else meta)
    for name in candidates:
        # LookupError covers unknown names and bytes-to-bytes codecs such as base64.
        with contextlib.suppress(LookupError):
            return body.decode(codecs.lookup(name).name, errors="replace")
    return body.decode("utf-8", errors="replace")


def _truncate(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max(max_chars, 0)]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary > max_chars * 0.8:
        cut = cut[:boundary]
    return cut.rstrip()


# Elements whose content is never readable text.
_SKIPPED = frozenset(
    {
        "script",
        "style",
        "noscript",
        "svg",
        "math",
        "template",
        "nav",
        "footer",
        "header",
        "aside",
        "form",
        "iframe",
        "object",
        "canvas",
        "button",
        "select",
        "textarea",
        "dialog",
    }
)
# Skipped elements that usually sit inside a sentence; the others end a block.
_INLINE_SKIPPED = frozenset({"script", "style", "noscript", "svg", "math", "template", "button"})
_VOID = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
_PARAGRAPH_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "pre",
        "section",
        "article",
        "main",
        "ul",
        "ol",
        "dl",
        "table",
        "figure",
        "hr",
        "address",
        "details",
    }
)
_LINE_TAGS = frozenset({"br", "div", "li", "tr", "dt", "dd", "figcaption", "summary", "caption"})
_FOCUS_TAGS = frozenset({"article", "main"})
_BREAKS = ("\n", "\n\n")
_WHITESPACE = re.compile(r"\s+")
_DISPLAY_NONE = re.compile(r"display\s*:\s*none", re.IGNORECASE)


class _ReadableTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.all_parts: list[str] = []
        self.focus_parts: list[str] = []
        self.og_title = ""
        self.title_parts: list[str] = []
        self.h1_any: list[str] = []
        self.h1_focus: list[str] = []
        self._skip_stack: list[str] = []
        self._focus_depth = 0
        self._in_title = False
        self._title_done = False
        self._h1_target: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._in_title:
            # A real <title> holds only text; a tag here means it was never closed.
            self._in_title = False
            self._title_done = True
        if tag == "meta":
            self._read_meta(attrs)
            return
        if self._skip_stack:
            # Every open element is tracked while skipping so that the skipped region
            # ends at the matching end tag even with nested or unclosed children.
            if tag not in _VOID:
                self._skip_stack.append(tag)
            return
        if tag not in _VOID and (tag in _SKIPPED or _is_hidden(attrs)):
            self._skip_stack.append(tag)
            return
        if tag == "title" and not self._title_done:
            self._in_title = True
            return
        self._block_break(tag)
        if tag in _FOCUS_TAGS:
            self._focus_depth += 1
        elif tag == "h1" and self._h1_target is None:
            if self._focus_depth and not self.h1_focus:
                self._h1_target = self.h1_focus
            elif not self.h1_any:
                self._h1_target = self.h1_any

    def handle_endtag(self, tag: str) -> None:
        if self._skip_stack:
            if tag in self._skip_stack:
                while self._skip_stack.pop() != tag:
                    pass
                if not self._skip_stack:
                    if tag in _INLINE_SKIPPED:
                        self._emit(" ")
                    else:
                        self._emit_break(1)
            return
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
            return
        if tag in _FOCUS_TAGS and self._focus_depth:
            self._focus_depth -= 1
        elif tag == "h1":
            self._h1_target = None
        self._block_break(tag)

    def handle_data(self, data: str) -> None:
        if self._skip_stack:
            return
        if self._in_title:
            self.title_parts.append(data)
            return
        if self._h1_target is not None:
            self._h1_target.append(data)
        self._emit(_WHITESPACE.sub(" ", data))

    def _emit(self, text: str) -> None:
        self.all_parts.append(text)
        if self._focus_depth:
            self.focus_parts.append(text)

    def _emit_break(self, newlines: int) -> None:
        for parts in (self.all_parts, self.focus_parts) if self._focus_depth else (self.all_parts,):
            _append_break(parts, newlines)

    def _block_break(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            self._emit_break(2)
        elif tag in _LINE_TAGS:
            self._emit_break(1)

    def _read_meta(self, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        key = (values.get("property") or values.get("name") or "").strip().lower()
        if key == "og:title" and not self.og_title:
            self.og_title = _one_line(values.get("content", ""))


def _append_break(parts: list[str], newlines: int) -> None:
    # Whitespace before a break is meaningless, and adjacent breaks (</p><div>) merge
    # into the larger one instead of adding up.
    while parts and parts[-1].isspace() and "\n" not in parts[-1]:
        parts.pop()
    if parts and parts[-1] in _BREAKS:
        newlines = max(newlines, len(parts.pop()))
    parts.append(_BREAKS[newlines - 1])


def _is_hidden(attrs: list[tuple[str, str | None]]) -> bool:
    for name, value in attrs:
        if name == "hidden":
            return True
        if name == "aria-hidden" and (value or "").strip().lower() == "true":
            return True
        if name == "style" and value and _DISPLAY_NONE.search(value):
            return True
    return False


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _assemble(parts: list[str]) -> str:
    lines = [_one_line(line) for line in "".join(parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def extract_readable_text(html: str, *, max_chars: int) -> tuple[str, str]:
    """Return `(title, text)` of an HTML document.

    Navigation, headers, footers, forms, scripts, styles, embedded frames and hidden
    elements are dropped; when the page has `<article>` or `<main>` content only that is
    kept. Paragraphs and headings are separated by blank lines, list items and line
    breaks by newlines, other whitespace is collapsed and entities are decoded. The
    title is `og:title`, else `<title>`, else the first `<h1>` (inside the article
    first). `text` holds at most `max_chars` characters.
    """
    parser = _ReadableTextParser()
    # html.parser is lenient, but a few malformed declarations still raise; what was
    # parsed up to that point is kept.
    with contextlib.suppress(AssertionError, ValueError):
        parser.feed(html)
        parser.close()

    focus = _assemble(parser.focus_parts)
    text = focus or _assemble(parser.all_parts)
    title = (
        parser.og_title
        or _one_line("".join(parser.title_parts))
        or _one_line("".join(parser.h1_focus))
        or _one_line("".join(parser.h1_any))
    )
    return _truncate(title, _MAX_TITLE_CHARS), _truncate(text, max_chars)
