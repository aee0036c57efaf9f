"""Settings → Credits: the balance and the ledger, newest first, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from powerpost.dashboard import service
from powerpost.dashboard.deps import CurrentViewer, PageRead
from powerpost.dashboard.rendering import render

router = APIRouter(include_in_schema=False)
MAX_PAGE = 100_000


def _page_number(raw: str | None) -> int:
    if raw is None or not raw.isdigit():
        return 1
    return min(max(1, int(raw)), MAX_PAGE)


@router.get("/settings/credits")
async def credits_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    page = await service.ledger_page(
        session, viewer.account_id, _page_number(request.query_params.get("page"))
    )
    return render(
        request,
        "settings/credits.html",
        viewer=viewer,
        title="Credits",
        ledger=page,
        page_size=service.LEDGER_PAGE_SIZE,
    )
