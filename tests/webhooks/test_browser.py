"""Settings → Webhooks in Chromium: add an endpoint, copy the once-shown secret, send a
test event to a real receiver that verifies it, read the log, redeliver, disable."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, expect
from standardwebhooks.webhooks import Webhook

from tests.dashboard.test_browser import (  # noqa: F401 - fixtures
    DESKTOP,
    BrowserWatch,
    LiveServer,
    _context,
    _shot,
    browser,
    live_server,
    sign_up,
)

pytestmark = pytest.mark.browser


class _Inbox:
    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []


@pytest.fixture
def inbox() -> Iterator[tuple[str, _Inbox]]:
    box = _Inbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            box.requests.append((dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", box
    finally:
        server.shutdown()
        server.server_close()


def test_webhooks_page_in_chromium(
    live_server: LiveServer,  # noqa: F811 - the fixture imported above
    browser: Browser,  # noqa: F811
    inbox: tuple[str, _Inbox],
) -> None:
    url, box = inbox
    watch = BrowserWatch(live_server.base_url)
    page = _context(browser, live_server, DESKTOP).new_page()
    watch.attach(page)
    sign_up(page, "hooks")

    page.get_by_role("link", name="Webhooks", exact=True).click()
    expect(page.get_by_text("No endpoints yet")).to_be_visible()
    page.get_by_label("URL").fill("https://10.0.0.1/in")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_role("alert").filter(has_text="private or internal")).to_be_visible()
    page.get_by_label("URL").fill(url)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    secret = page.locator("#new-secret").inner_text().strip()
    assert secret.startswith("whsec_")
    page.get_by_role("button", name="Copy secret").click()
    expect(page.locator("#new-secret-copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    _shot(page, "webhooks-01-added")

    page.get_by_role("button", name=f"Send test {url}").click()
    expect(page.get_by_text("Test event queued")).to_be_visible()
    deadline = time.monotonic() + 15
    while page.locator(".delivery-status").first.inner_text() != "succeeded":
        assert time.monotonic() < deadline, "the test event was not delivered"
        page.wait_for_timeout(200)
        page.reload()
    expect(page.locator("tr.attempt").first).to_contain_text("200")
    headers, body = box.requests[0]
    payload = Webhook(secret).verify(body, headers)
    assert payload["event"] == "webhook.test"
    _shot(page, "webhooks-02-log")

    page.get_by_role("button", name=re.compile("^Redeliver webhook.test")).click()
    expect(page.get_by_text("Redelivery queued")).to_be_visible()
    page.get_by_role("link", name="← Webhooks").click()
    page.get_by_role("button", name=f"Disable {url}").click()
    expect(page.get_by_text("Endpoint disabled")).to_be_visible()
    expect(page.locator(".hook-state")).to_have_text("disabled (manual)")
    _shot(page, "webhooks-03-disabled")
    # the one deliberate refusal (the private address) is the only error the pages logged
    assert [e for e in watch.console_errors if "status of 400" not in e] == []
    assert len(watch.console_errors) <= 1
    assert watch.foreign_requests == []
