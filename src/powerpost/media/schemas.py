from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from powerpost.config import Settings
from powerpost.kit.clock import iso_z
from powerpost.media.signing import signed_url, thumbnail_url
from powerpost.models import Media


class MediaUploaded(BaseModel):
    media_id: str
    type: Literal["image", "video"]
    file_name: str
    file_size: int
    mime_type: str
    created_at: str
    # Additive fields (clients ignore unknown fields).
    width: int
    height: int
    duration: float | None = Field(description="Seconds; videos only (null for images)")
    url: str = Field(description="Signed URL of the file, valid for 7 days")
    thumbnail_url: str | None = Field(description="Signed URL of a JPEG thumbnail (7 days)")

    @classmethod
    def of(cls, media: Media, settings: Settings, now: datetime | None = None) -> MediaUploaded:
        return cls(
            media_id=media.id,
            type="video" if media.kind == "video" else "image",
            file_name=media.file_name,
            file_size=media.file_size,
            mime_type=media.mime_type,
            created_at=iso_z(media.created_at) or "",
            width=media.width,
            height=media.height,
            duration=media.duration_seconds,
            url=signed_url(settings, media.id, "original", now),
            thumbnail_url=thumbnail_url(settings, media.id, media.thumbnail_key, now),
        )


# multipart/form-data is read by hand (streamed), so the request body is described here.
UPLOAD_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "type"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "JPEG, PNG or WebP (≤ 10 MB); MP4, MOV or WebM "
                            "(≤ 500 MB). The format is decided from the bytes.",
                        },
                        "type": {"type": "string", "enum": ["image", "video"]},
                    },
                }
            }
        },
    }
}
