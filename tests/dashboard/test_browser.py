"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against a real
uvicorn server on a loopback port, calling the API with the keys read from the pages."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    expect,
    sync_playwright,
)

from powerpost.api_keys.scopes import PRESETS
from powerpost.app import create_app
from powerpost.config import Settings
from powerpost.kit.http_server import HeadCappedH11Protocol
from powerpost.kit.routing import ApiRoute, iter_api_routes
from tests.dashboard.support import PASSWORD
from tests.generation.support import image_bytes

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
MISSING_PAGE = "/settings/nothing-here"
# Resolves once the <img> has finished loading: true if it decoded, false if it failed.
# Playwright bounds the evaluation with its own timeout, so a stuck image fails fast.
_IMAGE_LOADED = """img => img.complete ? img.naturalWidth > 0 : new Promise(resolve => {
    img.addEventListener("load", () => resolve(img.naturalWidth > 0), {once: true});
    img.addEventListener("error", () => resolve(false), {once: true});
})"""


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI


@dataclass
class BrowserWatch:
    """What the pages did that they must not: console errors, requests elsewhere."""

    base_url: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", self._console)
        page.on("request", self._request)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        # The deliberate visit to a missing page is reported as a failed load; fine.
        if "404" in message.text and message.location.get("url", "").endswith(MISSING_PAGE):
            return
        self.console_errors.append(f"{message.text} at {message.location}")

    def _request(self, request: Request) -> None:
        url = request.url
        if not url.startswith((self.base_url + "/", "data:")):
            self.foreign_requests.append(url)


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        lifespan="on",
        # The loop the other tests run on. uvloop reports, at shutdown, every socket still
        # open, and the API rate limiter keeps its Redis connection until the process ends.
        loop="asyncio",
        log_config=None,
        access_log=False,
        # The protocol class PowerPost serves with, in its h11 form (no uvloop here).
        http=HeadCappedH11Protocol,
        ws="none",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _context(browser: Browser, live: LiveServer, viewport: ViewportSize) -> BrowserContext:
    context = browser.new_context(viewport=viewport, base_url=live.base_url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.base_url)
    context.set_default_timeout(10_000)
    return context


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_up(page: Page, who: str) -> str:
    """A new account through the sign-up form, landing welcomed on the API keys page; its
    email (the password is PASSWORD)."""
    email = f"{who}-{uuid.uuid4().hex[:8]}@example.com"
    page.goto("/signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome to PowerPost")).to_be_visible()
    return email


def sign_in(page: Page, email: str) -> None:
    """Through the login form, landing on the API keys page."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()


def _create_key(page: Page, name: str, type_label: str) -> str:
    page.get_by_role("link", name="API keys", exact=True).click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label(type_label).check()
    page.get_by_role("button", name="Create API Key").click()
    expect(page.get_by_text("It will not be shown again")).to_be_visible()
    secret = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"pp_live_sk_[0-9A-Za-z]{38}", secret), secret
    return secret


def _route_outside(app: FastAPI, granted: frozenset[str]) -> tuple[str, str, bool] | None:
    """(method, path, needs workspace) of an existing API route these scopes do not open."""
    candidates = [
        (sorted(route.methods or {"GET"})[0], path, route.requirement.workspace)
        for path, route in iter_api_routes(app.routes)
        if isinstance(route, ApiRoute) and route.requirement.scope not in granted
    ]
    publish = [c for c in candidates if c[1].endswith("/publish") and c[0] == "POST"]
    if not (publish or candidates):
        return None
    method, path, workspace = (publish or candidates)[0]
    return method, re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path), workspace


def test_sign_up_to_revoked_key_in_chromium(
    live_server: LiveServer,
    browser: Browser,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    caplog.set_level(logging.INFO)
    base = live_server.base_url
    api = httpx.Client(base_url=base, timeout=10)
    request.addfinalizer(api.close)
    watch = BrowserWatch(base)
    context = _context(browser, live_server, DESKTOP)
    page = context.new_page()
    watch.attach(page)
    email = f"browser-{uuid.uuid4().hex[:8]}@example.com"

    # Sign up.
    page.goto("/signup")
    expect(page).to_have_title(re.compile("Create an account"))
    _shot(page, "01-signup")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/settings/api\?notice=welcome$"))
    expect(page.get_by_text("Welcome to PowerPost")).to_be_visible()
    _shot(page, "02-api-keys-empty")

    # Workspaces: create one, copy its id with the button, rename it inline (htmx).
    page.get_by_role("link", name="Workspaces", exact=True).click()
    page.get_by_label("Name", exact=True).fill("Browser campaign")
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_text("Workspace created.")).to_be_visible()
    row = page.locator("tr.workspace-row", has_text="Browser campaign")
    workspace_id = row.locator("code.ws-id").inner_text().strip()
    assert uuid.UUID(workspace_id)
    row.get_by_role("button", name="Copy ID").click()
    expect(row.get_by_role("status")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == workspace_id
    row.get_by_role("link", name="Rename").click()
    rename = page.get_by_label("New name for “Browser campaign”")
    expect(rename).to_be_focused()
    rename.fill("Spring campaign")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator(f"#ws-{workspace_id} .ws-name")).to_have_text("Spring campaign")
    page.get_by_role("link", name="Delete Spring campaign").click()
    expect(page.get_by_text("becomes unreachable")).to_be_visible()
    _shot(page, "03-workspaces-delete-confirm")
    page.locator(f"#ws-panel-{workspace_id}").get_by_role("link", name="Cancel").click()
    expect(page.get_by_text("becomes unreachable")).to_have_count(0)
    _shot(page, "04-workspaces")

    # A Draft Only key, read from the page and copied with the button.
    draft_key = _create_key(page, "Browser draft key", "Draft Only")
    page.get_by_role("button", name="Copy key").click()
    expect(page.locator("#new-key-copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == draft_key
    _shot(page, "05-new-key-revealed")

    credits = api.get("/api/v1/account/credits", headers={"x-api-key": draft_key})
    assert credits.status_code == 200
    assert credits.json() == {"balance": 50}

    # Outside the key's scopes: publishing once it exists, otherwise a Read Only key on
    # whatever write route exists; the pages must show the scopes either way.
    outside = _route_outside(live_server.app, PRESETS["read_draft"])
    probe_key, probe_scopes = draft_key, PRESETS["read_draft"]
    if outside is None:
        probe_key = _create_key(page, "Browser read-only key", "Read Only")
        probe_scopes = PRESETS["read_only"]
        outside = _route_outside(live_server.app, probe_scopes)
    if outside is not None:
        method, path, needs_workspace = outside
        probe_headers = {"x-api-key": probe_key}
        if needs_workspace:
            probe_headers["X-Workspace-Id"] = workspace_id
        refused = api.request(method, path, headers=probe_headers)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["error"]["code"] == "INSUFFICIENT_SCOPE"

    # Usage: last used and the request itself, once the recorder has written its batch.
    page.get_by_role("link", name="API keys", exact=True).click()
    draft_row = page.locator("tr", has_text="Browser draft key").first
    page.get_by_role("link", name="Browser draft key", exact=True).click()
    expect(page.get_by_role("heading", name="Browser draft key")).to_be_visible()
    scope_tags = page.get_by_role("list", name="Scopes").inner_text()
    for scope in probe_scopes if probe_key == draft_key else PRESETS["read_draft"]:
        assert scope in scope_tags
    assert "posts:publish" not in scope_tags
    # The draft key's requests: the credits read, and the refused probe when it used it.
    expected_paths = ["/api/v1/account/credits"]
    if outside is not None and probe_key == draft_key:
        expected_paths.append(outside[1])
    deadline = time.monotonic() + 15
    while not all(p in page.locator("#main").inner_text() for p in expected_paths):
        assert time.monotonic() < deadline, "the request never showed up in the usage view"
        time.sleep(0.5)
        page.reload()
    # Newest first: the scope probe (a refused publish, now that the route exists) may be
    # the latest row, so find the credits request by its path.
    request_row = page.locator("#requests tbody tr", has_text="/api/v1/account/credits").first
    expect(request_row).to_contain_text("GET")
    expect(request_row).to_contain_text("/api/v1/account/credits")
    expect(request_row).to_contain_text("200")
    expect(request_row).to_contain_text("127.0.0.1")
    expect(page.locator("#last-used")).to_contain_text("Just now")
    count = len(expected_paths)
    expect(page.locator("#chart-summary")).to_contain_text(
        f"{count} request{'' if count == 1 else 's'} from"
    )
    expect(page.locator("svg rect.bar")).to_have_count(1)
    _shot(page, "06-key-usage")

    # Revoke it in the page (htmx loads the confirmation into the row), then 401.
    page.get_by_role("link", name="All API keys").click()
    expect(draft_row.locator("td.last-used")).to_contain_text("Just now")
    page.get_by_role("link", name="Revoke Browser draft key").click()
    expect(page.get_by_text("Revoke “Browser draft key”?")).to_be_visible()
    _shot(page, "07-revoke-confirm")
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("The API key is revoked")).to_be_visible()
    expect(page.locator("tr", has_text="Browser draft key").first).to_contain_text("Revoked")
    _shot(page, "08-api-keys-after-revoke")
    revoked = api.get("/api/v1/account/credits", headers={"x-api-key": draft_key})
    assert revoked.status_code == 401
    assert revoked.json()["error"]["code"] == "INVALID_API_KEY"

    # The remaining pages, for the record.
    page.get_by_role("link", name="Credits", exact=True).click()
    expect(page.locator("#balance")).to_have_text("50")
    expect(page.get_by_text("Free credits on sign-up")).to_be_visible()
    _shot(page, "09-credits")
    page.get_by_role("link", name="Account", exact=True).click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.locator("tr.session-row.current")).to_contain_text("This browser")
    expect(page.locator("tr.session-row.current")).to_contain_text("Chrom")
    _shot(page, "10-account")
    page.goto(MISSING_PAGE)
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    _shot(page, "11-not-found")

    # Keyboard: the skip link is the first stop and lands on the main content.
    page.goto("/settings/api")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?notice=signed-out$"))
    _shot(page, "12-login")

    # A phone-sized screen: same pages, navigation above the content.
    phone = _context(browser, live_server, PHONE).new_page()
    watch.attach(phone)
    sign_in(phone, email)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
    _shot(phone, "13-phone-api-keys")
    phone.get_by_role("link", name="Workspaces", exact=True).click()
    _shot(phone, "14-phone-workspaces")

    assert watch.foreign_requests == []
    assert watch.console_errors == []
    for secret in (draft_key, probe_key):
        assert secret not in caplog.text


def test_a_person_publishes_a_draft_only_keys_draft_in_chromium(
    live_server: LiveServer,
    browser: Browser,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    """Human approval, end to end: a Draft Only test-mode key (an agent) makes a draft
    through the API and may not publish it; the person sees it in the queue, publishes it
    from the page, watches every item post, and the API then shows it published."""
    caplog.set_level(logging.INFO)
    base = live_server.base_url
    api = httpx.Client(base_url=base, timeout=15)
    request.addfinalizer(api.close)
    watch = BrowserWatch(base)
    context = _context(browser, live_server, DESKTOP)
    page = context.new_page()
    watch.attach(page)
    email = sign_up(page, "approver")

    # The agent's key: Draft Only, test mode.
    page.get_by_label("Name", exact=True).fill("Agent drafts")
    page.get_by_label("Draft Only").check()
    page.locator('input[name="mode"][value="test"]').check()
    page.get_by_role("button", name="Create API Key").click()
    secret = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"pp_test_sk_[0-9A-Za-z]{38}", secret), secret
    page.get_by_role("link", name="Workspaces", exact=True).click()
    workspace_id = page.locator("code.ws-id").first.inner_text().strip()
    agent = {"x-api-key": secret, "X-Workspace-Id": workspace_id}

    upload = api.post(
        "/api/v1/media/upload",
        headers=agent,
        files={"file": ("shop.png", image_bytes((640, 640)), "image/png")},
        data={"type": "image"},
    )
    assert upload.status_code == 200, upload.text
    photo = upload.json()["media_id"]
    created = api.post(
        "/api/v1/posts",
        headers=agent,
        json={
            "items": [
                {"post_type": "x-post", "content": "Fresh bread at 7 #bakery"},
                {"post_type": "instagram-feed", "content": "Our shop #bread", "media_ids": [photo]},
                {"post_type": "linkedin-post", "content": "We open a second shop downtown."},
            ]
        },
    )
    assert created.status_code == 200, created.text
    post_id = created.json()["post_id"]
    refused = api.post(f"/api/v1/posts/{post_id}/publish", headers=agent)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "INSUFFICIENT_SCOPE"

    # The queue: the draft under "Test mode", naming the key, with its previews.
    page.get_by_role("link", name="Posts", exact=True).click()
    expect(page.get_by_text("No drafts waiting")).to_be_visible()  # live tab: nothing
    page.get_by_role("link", name="Test mode").click()
    card = page.locator(f"#post-{post_id}")
    expect(card).to_contain_text("API key “Agent drafts”")
    expect(card.locator("mark.hashtag", has_text="#bakery")).to_be_visible()
    thumb = card.locator("ul.thumbs img")
    expect(thumb).to_have_count(1)
    # The thumbnail loads after the card renders; wait for its load (or error) event.
    assert thumb.evaluate(_IMAGE_LOADED)
    _shot(page, "20-posts-queue")

    # Keyboard: the Edit link opens the form in place, focus on its first field; Escape
    # the form with its Cancel link (back to the opener).
    card.get_by_role("link", name=re.compile("^Edit the post")).focus()
    page.keyboard.press("Enter")
    first_field = page.locator(f"#post-panel-{post_id} textarea").first
    expect(first_field).to_be_focused()
    _shot(page, "21-posts-edit")
    page.locator(f"#post-panel-{post_id}").get_by_role("link", name="Cancel").click()
    expect(page.locator(f"#post-panel-{post_id} textarea")).to_have_count(0)

    card.get_by_role("button", name="Publish now").click()
    expect(page).to_have_url(re.compile(rf"/posts/{post_id}\?workspace="))
    # The page refreshes itself every 2 s while publishing, until every item has posted.
    expect(page.locator(".post-state")).to_contain_text("Published", timeout=20_000)
    items = page.locator("li.item-card")
    expect(items).to_have_count(3)
    expect(page.locator("li.item-card .item-status")).to_have_text(["Posted"] * 3)
    links = page.locator("a.platform-link")
    expect(links).to_have_count(3)
    for index in range(3):
        assert links.nth(index).get_attribute("rel") == "noopener"
        assert (links.nth(index).get_attribute("href") or "").startswith("https://")
    expect(page.locator("tr.attempt-row")).to_have_count(3)
    _shot(page, "22-post-published")

    shown = api.get(f"/api/v1/posts/{post_id}", headers=agent)
    assert shown.status_code == 200
    body = shown.json()
    assert body["status"] == "published"
    assert [i["status"] for i in body["items"]] == ["posted"] * 3
    hrefs = [links.nth(i).get_attribute("href") for i in range(3)]
    assert hrefs == [i["platform_url"] for i in body["items"]]

    # A phone in Tokyo: the queue and the post page fit 390 px without sideways scrolling,
    # and a schedule typed in local time reaches the API with Tokyo's offset.
    second = api.post(
        "/api/v1/posts",
        headers=agent,
        json={"items": [{"post_type": "x-post", "content": "Weekend hours #bakery"}]},
    )
    assert second.status_code == 200, second.text
    second_id = second.json()["post_id"]
    tokyo = browser.new_context(viewport=PHONE, base_url=base, timezone_id="Asia/Tokyo")
    tokyo.set_default_timeout(10_000)
    phone = tokyo.new_page()
    watch.attach(phone)
    sign_in(phone, email)
    phone.goto(f"/posts?workspace={workspace_id}&mode=test")
    draft = phone.locator(f"#post-{second_id}")
    draft.get_by_role("link", name=re.compile("^Schedule the post")).click()
    when = phone.get_by_label("Date and time")
    expect(when).to_be_focused()
    day = (datetime.now(UTC) + timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo")).date()
    when.fill(f"{day.isoformat()}T09:30")
    _shot(phone, "25-phone-schedule")
    draft.get_by_role("button", name="Schedule post").click()
    expect(phone.get_by_text("Post scheduled.")).to_be_visible()
    expected = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    scheduled = api.get(f"/api/v1/posts/{second_id}", headers=agent).json()
    assert scheduled["status"] == "scheduled"
    assert scheduled["scheduled_at"] == expected.strftime("%Y-%m-%dT%H:%M:%SZ")
    phone.locator(f"#post-{second_id}").get_by_role("button", name="Cancel schedule").click()
    expect(phone.get_by_text("Schedule cancelled.")).to_be_visible()
    assert api.get(f"/api/v1/posts/{second_id}", headers=agent).json()["status"] == "draft"
    for path, name in (
        (f"/posts?workspace={workspace_id}&mode=test", "23-phone-posts"),
        (f"/posts/{post_id}?workspace={workspace_id}", "24-phone-post"),
    ):
        phone.goto(path)
        expect(phone.locator("h1")).to_be_visible()
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} scrolls sideways on a phone ({width}px)"
        _shot(phone, name)

    assert watch.foreign_requests == []
    assert watch.console_errors == []
    assert secret not in caplog.text
