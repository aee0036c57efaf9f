from __future__ import annotations

from fastapi import APIRouter

from powerpost.auth.capabilities import AccountRead
from powerpost.credits import service
from powerpost.credits.schemas import CreditBalance
from powerpost.kit.deps import Db
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute

router = APIRouter(route_class=ApiRoute, tags=["Account"])


@router.get(
    "/account/credits",
    operation_id="getCredits",
    response_model=CreditBalance,
    responses=error_responses(401, 429),
)
async def get_credits(auth: AccountRead, db: Db) -> CreditBalance:
    """The account-wide credit balance (no X-Workspace-Id needed)."""
    return CreditBalance(balance=await service.current_balance(db, auth.account_id))
