from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class MediaReservation(Base):
    """Quota taken by an upload whose row does not exist yet.

    An upload reserves quota, writes its files, then inserts its `Media` row and drops
    this reservation in one transaction. A process that dies in between leaves this row
    behind, so the media sweep can give the quota back and remove the files; without it
    the bytes would stay counted against the account forever.
    """

    __tablename__ = "media_reservations"
    __table_args__ = (
        Index("ix_media_reservations_created", "created_at"),
        CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    # The id the media row will have: its files live under <account>/<workspace>/<id>/.
    media_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
