from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class IdempotencyKey(Base):
    """One `Idempotency-Key` a client sent on a creating POST (see `powerpost.idempotency`).

    The row is inserted *before* the request's work starts: the unique constraint is the
    claim, so of two concurrent requests with one key exactly one gets to run, on every
    process and both databases. While the work runs the row holds a `claim_token` and a
    `locked_until` the running process keeps pushing forward; a process that dies stops
    pushing, so its claim lapses and a retry can take over instead of waiting 24 hours.
    Once the work answers, the token is cleared and the answer stored for replay.
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        # Keys are scoped per API key and per method + path (`scope` is their digest,
        # so a long path cannot overflow a column).
        UniqueConstraint(
            "api_key_id", "scope", "idempotency_key", name="uq_idempotency_keys_claim"
        ),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(200))  # for people reading the table; may be cut
    # sha256 of method, path, query, workspace and body; set when the answer is stored
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    claim_token: Mapped[str | None] = mapped_column(String(36))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_media_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
