from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from powerpost.kit.db import Base, UTCDateTime


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_account_id", "account_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    # read_write | read_draft | read_only | custom; immutable after creation
    type: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(512))  # space-separated, sorted
    mode: Mapped[str] = mapped_column(String(4))  # live | test
    # HMAC-SHA256(pepper[pepper_version], key): the key itself is never stored
    digest: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    pepper_version: Mapped[int] = mapped_column(Integer)
    display_prefix: Mapped[str] = mapped_column(String(24))
    display_suffix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
    # Set on the old key when it is rolled: it keeps working until expires_at (the grace
    # period), and like every key that still works it counts toward the 10-key limit.
    superseded_by: Mapped[str | None] = mapped_column(String(36))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
