"""The Calendar page in a real browser: a scheduled post and a calendar entry on their day in
the month and week views, keyboard-only navigation to the next month and into a post, and a
phone-width day-by-day list that never scrolls sideways."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.dashboard.test_browser import (
    DESKTOP,
    BrowserWatch,
    LiveServer,
    _context,
    _shot,
    browser,
    live_server,
    sign_in,
    sign_up,
)

pytestmark = pytest.mark.browser
__all__ = ["browser", "live_server"]  # the fixtures, shared with the other browser tests

NARROW: ViewportSize = {"width": 375, "height": 812}
MAX_TABS = 80


def _tab_to(page: Page, test: str) -> None:
    """Press Tab (only Tab) until the focused element passes the JS predicate `test`."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {test})(document.activeElement)"):
            return
    raise AssertionError(f"{MAX_TABS} Tabs never reached: {test}")


def _focus_is_visible(page: Page) -> bool:
    return bool(
        page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                       return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }"""
        )
    )


def _next_month_15th(today: date) -> date:
    # From 15 to 46 days ahead: inside the 1-minute-to-60-days scheduling window.
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.replace(day=15)


def test_calendar_by_keyboard_and_on_a_phone_in_chromium(
    live_server: LiveServer, browser: Browser, request: pytest.FixtureRequest
) -> None:
    base = live_server.base_url
    api = httpx.Client(base_url=base, timeout=15)
    request.addfinalizer(api.close)
    watch = BrowserWatch(base)
    context = _context(browser, live_server, DESKTOP)
    page = context.new_page()
    watch.attach(page)
    email = sign_up(page, "planner")
    page.get_by_label("Name", exact=True).fill("Planner")
    page.get_by_label("Full Access").check()
    page.locator('input[name="mode"][value="test"]').check()
    page.get_by_role("button", name="Create API Key").click()
    secret = page.locator("#new-key").inner_text().strip()
    assert secret.startswith("pp_test_sk_"), secret
    page.get_by_role("link", name="Workspaces", exact=True).click()
    workspace_id = page.locator("code.ws-id").first.inner_text().strip()
    key = {"x-api-key": secret, "X-Workspace-Id": workspace_id}

    today = datetime.now(UTC).date()
    day = _next_month_15th(today)
    created = api.post(
        "/api/v1/posts",
        headers=key,
        json={"items": [{"post_type": "x-post", "content": "Winter opening #bakery"}]},
    )
    assert created.status_code == 200, created.text
    post_id = created.json()["post_id"]
    when = datetime(day.year, day.month, day.day, 10, 30, tzinfo=UTC)
    scheduled = api.post(
        f"/api/v1/posts/{post_id}/schedule",
        headers=key,
        json={"scheduled_at": when.isoformat().replace("+00:00", "Z")},
    )
    assert scheduled.status_code == 200, scheduled.text
    entry = api.post(
        "/api/v1/calendar/entries",
        headers=key,
        json={
            "title": "Winter launch",
            "scheduled_date": day.isoformat(),
            "scheduled_time": "09:00",
            "platforms": ["instagram", "linkedin"],
            "description": "Shoot the new shop front",
        },
    )
    assert entry.status_code == 200, entry.text

    # The navigation has Calendar next to Posts.
    nav_links = page.locator("nav.sidenav a").all_inner_texts()
    assert nav_links[nav_links.index("Posts") + 1] == "Calendar"

    # Keyboard only, from this month: the skip link comes first, then on to "Next month".
    page.goto("/calendar?mode=test")
    expect(page.get_by_role("heading", name=f"{today:%B %Y}")).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    _tab_to(page, "el.textContent.trim() === 'Next month →'")
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"{day:%B %Y}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"date={day.replace(day=1).isoformat()}"))

    # The month view: the post and the entry on the 15th, in the table's cell for that day.
    cell = page.locator(f'td[data-date="{day.isoformat()}"]')
    expect(cell).to_contain_text(f"{day:%A} {day.day} {day:%B %Y}")
    expect(cell.locator(f'a[data-post="{post_id}"]')).to_contain_text("10:30")
    expect(cell.locator(f'a[data-post="{post_id}"]')).to_contain_text("Scheduled")
    expect(cell.locator(".cal-entry")).to_contain_text("Winter launch")
    expect(cell.locator(".cal-entry")).to_contain_text("Instagram, LinkedIn")
    assert page.get_by_role("columnheader").count() == 7
    _shot(page, "30-calendar-month")

    # Tab into the post (past the nav, the form and the cells before it); Enter opens it.
    _tab_to(page, f"el.dataset.post === '{post_id}'")
    assert _focus_is_visible(page)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/posts/{post_id}\?workspace="))
    expect(page.locator(".post-state")).to_contain_text("Scheduled")

    # The week view of that day shows both as well.
    page.goto(f"/calendar?mode=test&view=week&date={day.isoformat()}")
    week_cell = page.locator(f'td[data-date="{day.isoformat()}"]')
    expect(week_cell.locator(f'a[data-post="{post_id}"]')).to_be_visible()
    expect(week_cell.locator(".cal-entry")).to_contain_text("Winter launch")
    expect(page.locator("tbody td")).to_have_count(7)
    _shot(page, "31-calendar-week")

    # A 375 px phone: the month is a list of the days with something on them, full dates
    # shown, and nothing scrolls sideways.
    phone = _context(browser, live_server, NARROW).new_page()
    watch.attach(phone)
    sign_in(phone, email)
    for view in ("month", "week"):
        phone.goto(f"/calendar?mode=test&view={view}&date={day.isoformat()}")
        listed = phone.locator(f'td[data-date="{day.isoformat()}"]')
        expect(listed).to_be_visible()
        expect(listed.locator(".day-full")).to_be_visible()
        expect(listed.locator(f'a[data-post="{post_id}"]')).to_be_visible()
        assert listed.evaluate("el => getComputedStyle(el).display") == "block"
        overflow = phone.evaluate("[document.scrollingElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"{view}: scrolls sideways ({overflow})"
        _shot(phone, f"32-phone-calendar-{view}")
    # In the month list an empty day is left out; in the week every day is listed.
    phone.goto(f"/calendar?mode=test&view=month&date={day.isoformat()}")
    empty = phone.locator(f'td[data-date="{(day + timedelta(days=1)).isoformat()}"]')
    expect(empty).to_be_hidden()

    assert watch.foreign_requests == []
    assert watch.console_errors == []
