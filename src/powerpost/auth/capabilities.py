"""Capability aliases: a route's signature says what it may do.

Each alias is the `RequestAuth` the authorizer left on the request, behind a `Requirement`
naming one scope; `kit.routing.ApiRoute` refuses to register an API route without one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from powerpost.auth.authorizer import RequestAuth
from powerpost.kit.routing import Requirement

__all__ = [
    "AccountRead",
    "AnalyticsRead",
    "CalendarRead",
    "CalendarWrite",
    "ContentGenerate",
    "ContentRead",
    "ImagesGenerate",
    "ImagesRead",
    "MediaWrite",
    "PostsPublish",
    "PostsRead",
    "PostsWrite",
    "RequestAuth",
    "VideosGenerate",
    "VideosRead",
    "WebhooksRead",
    "WebhooksWrite",
]

AccountRead = Annotated[RequestAuth, Depends(Requirement("account:read", workspace=False))]
ContentRead = Annotated[RequestAuth, Depends(Requirement("content:read", workspace=True))]
ContentGenerate = Annotated[RequestAuth, Depends(Requirement("content:generate", workspace=True))]
ImagesRead = Annotated[RequestAuth, Depends(Requirement("images:read", workspace=True))]
ImagesGenerate = Annotated[RequestAuth, Depends(Requirement("images:generate", workspace=True))]
VideosRead = Annotated[RequestAuth, Depends(Requirement("videos:read", workspace=True))]
VideosGenerate = Annotated[RequestAuth, Depends(Requirement("videos:generate", workspace=True))]
MediaWrite = Annotated[RequestAuth, Depends(Requirement("media:write", workspace=True))]
PostsRead = Annotated[RequestAuth, Depends(Requirement("posts:read", workspace=True))]
PostsWrite = Annotated[RequestAuth, Depends(Requirement("posts:write", workspace=True))]
PostsPublish = Annotated[RequestAuth, Depends(Requirement("posts:publish", workspace=True))]
CalendarRead = Annotated[RequestAuth, Depends(Requirement("calendar:read", workspace=True))]
CalendarWrite = Annotated[RequestAuth, Depends(Requirement("calendar:write", workspace=True))]
AnalyticsRead = Annotated[RequestAuth, Depends(Requirement("analytics:read", workspace=True))]
# Draft Only keys get both (the seed: everything but publishing); Read Only gets :read.
WebhooksRead = Annotated[RequestAuth, Depends(Requirement("webhooks:read", workspace=True))]
WebhooksWrite = Annotated[RequestAuth, Depends(Requirement("webhooks:write", workspace=True))]
