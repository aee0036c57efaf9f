"""Settings → Credits: the balance and the ledger, newest first, a page at a time."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from powerpost.dashboard import service
from powerpost.dashboard.deps import CurrentViewer, PageRead
from powerpost.dashboard.rendering import render
from powerpost.dashboard.routes.common import page_number

router = APIRouter(include_in_schema=False)
MAX_PAGE = 100_000


@router.get("/settings/credits")
async def credits_page(request: Request, viewer: CurrentViewer, session: PageRead) -> Response:
    page = await service.ledger_page(
        session, viewer.account_id, page_number(request.query_params.get("page"), MAX_PAGE)
    )
    return render(
        request,
        "settings/credits.html",
        viewer=viewer,
        title="Credits",
        ledger=page,
        page_size=service.LEDGER_PAGE_SIZE,
    )
