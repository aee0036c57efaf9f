"""All SQL about accounts lives here."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from powerpost.models import Account


async def by_email(session: AsyncSession, email: str) -> Account | None:
    stmt = select(Account).where(Account.email == email)
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_id(session: AsyncSession, account_id: str) -> Account | None:
    return await session.get(Account, account_id)
