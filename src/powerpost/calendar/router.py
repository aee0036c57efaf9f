from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from powerpost.auth.capabilities import CalendarRead, CalendarWrite, RequestAuth
from powerpost.calendar import service
from powerpost.calendar.schemas import Deleted, EntryCreate, EntryList, EntryOut, EntryUpdate
from powerpost.kit.deps import ReadSession, WriteSession
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute, Idempotent

router = APIRouter(route_class=ApiRoute, tags=["Calendar"])


def _scope(auth: RequestAuth) -> service.Scope:
    return service.Scope(
        account_id=auth.account_id,
        workspace_id=auth.require_workspace(),
        mode=auth.principal.mode,
    )


@router.get(
    "/calendar/entries",
    operation_id="listCalendarEntries",
    response_model=EntryList,
    responses=error_responses(400, 401, 403, 429),
)
async def list_entries(
    auth: CalendarRead,
    session: ReadSession,
    start_date: Annotated[str, Query(max_length=10, description="First day, YYYY-MM-DD")],
    end_date: Annotated[
        str, Query(max_length=10, description="Last day, YYYY-MM-DD (at most 366 days in all)")
    ],
) -> EntryList:
    """Entries from `start_date` to `end_date` inclusive, by day, then time (entries with
    no time first), then creation."""
    entries = await service.list_entries(session, _scope(auth), start_date, end_date)
    return EntryList(entries=[service.out(e) for e in entries])


@router.post(
    "/calendar/entries",
    operation_id="createCalendarEntry",
    dependencies=[Idempotent],
    response_model=EntryOut,
    responses=error_responses(400, 401, 403, 409, 429),
)
async def create_entry(auth: CalendarWrite, body: EntryCreate, session: WriteSession) -> EntryOut:
    """Add an entry to the workspace's calendar."""
    return service.out(await service.create_entry(session, _scope(auth), body))


@router.get(
    "/calendar/entries/{entry_id}",
    operation_id="getCalendarEntry",
    response_model=EntryOut,
    responses=error_responses(401, 403, 404, 429),
)
async def get_entry(auth: CalendarRead, entry_id: str, session: ReadSession) -> EntryOut:
    """One calendar entry."""
    return service.out(await service.get_entry(session, _scope(auth), entry_id))


@router.patch(
    "/calendar/entries/{entry_id}",
    operation_id="updateCalendarEntry",
    response_model=EntryOut,
    responses=error_responses(400, 401, 403, 404, 429),
)
async def update_entry(
    auth: CalendarWrite, entry_id: str, body: EntryUpdate, session: WriteSession
) -> EntryOut:
    """Change one or more fields; `description` and `scheduled_time` may be null to clear
    them, and `platforms` replaces the whole list."""
    return service.out(await service.update_entry(session, _scope(auth), entry_id, body))


@router.delete(
    "/calendar/entries/{entry_id}",
    operation_id="deleteCalendarEntry",
    response_model=Deleted,
    responses=error_responses(401, 403, 404, 429),
)
async def delete_entry(auth: CalendarWrite, entry_id: str, session: WriteSession) -> Deleted:
    """Remove an entry for good."""
    await service.delete_entry(session, _scope(auth), entry_id)
    return Deleted(success=True)
