from __future__ import annotations

from fastapi import APIRouter, Request, Response

from powerpost.auth.capabilities import MediaWrite
from powerpost.config import Settings
from powerpost.kit.clock import utcnow
from powerpost.kit.db import Database
from powerpost.kit.errors import Forbidden, NotFound
from powerpost.kit.openapi import error_responses
from powerpost.kit.routing import ApiRoute, Idempotent
from powerpost.media import delivery, service, signing
from powerpost.media.schemas import UPLOAD_REQUEST_BODY, MediaUploaded
from powerpost.media.storage import Storage
from powerpost.media.upload import receive_upload

router = APIRouter(route_class=ApiRoute, tags=["Media"])
# The signed file links: no API key (platforms fetch them), so not under /api/v1.
files_router = APIRouter(tags=["Media files"])


@router.post(
    "/media/upload",
    operation_id="uploadMedia",
    dependencies=[Idempotent],
    response_model=MediaUploaded,
    responses=error_responses(400, 401, 403, 413, 429),
    openapi_extra=UPLOAD_REQUEST_BODY,
)
async def upload_media(auth: MediaWrite, request: Request) -> MediaUploaded:
    """Upload an image or a video (multipart fields `file` and `type`).

    The format is decided from the bytes, not from the name or the declared content type.
    """
    settings: Settings = request.app.state.settings
    storage: Storage = request.app.state.storage
    db: Database = request.app.state.db
    async with receive_upload(request, storage.tmp_dir) as upload:
        media = await service.create_upload(
            db,
            storage,
            account_id=auth.account_id,
            workspace_id=auth.require_workspace(),
            mode=auth.principal.mode,
            source=upload.path,
            declared=upload.declared,
            file_name=upload.file_name,
        )
    return MediaUploaded.of(media, settings)


@files_router.api_route(
    "/media/files/{media_id}/{variant}", methods=["GET", "HEAD"], include_in_schema=False
)
async def media_file(
    request: Request, media_id: str, variant: str, expires: str = "", signature: str = ""
) -> Response:
    if variant not in signing.VARIANTS:
        raise NotFound()
    settings: Settings = request.app.state.settings
    now = utcnow()
    deadline = signing.verify(settings, media_id, variant, expires, signature, now)
    if deadline is None:
        raise Forbidden("This media link is invalid or has expired")
    storage: Storage = request.app.state.storage
    file = await service.file_for(
        request.app.state.db,
        storage,
        media_id,
        "thumbnail" if variant == "thumbnail" else "original",
    )
    return delivery.serve(
        storage,
        file,
        range_header=request.headers.get("range"),
        head=request.method == "HEAD",
        expires_in=deadline - int(now.timestamp()),
    )
