from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class CreditLedgerEntry(Base):
    """Append-only: rows are inserted, never updated or deleted.

    `reference` is unique, which is what makes every movement idempotent: a retried job
    that tries to charge or refund again inserts nothing and changes nothing.
    """

    __tablename__ = "credit_ledger"
    __table_args__ = (Index("ix_credit_ledger_account_created", "account_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)  # positive = credit, negative = debit
    balance_after: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # signup grant hold release refund
    reason: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    workspace_id: Mapped[str | None] = mapped_column(String(36))
    api_key_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditHold(Base):
    """Credits taken when work starts, then settled (part captured) or refunded."""

    __tablename__ = "credit_holds"

    reference: Mapped[str] = mapped_column(String(200), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(Integer)
    captured: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # held | settled | refunded
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
