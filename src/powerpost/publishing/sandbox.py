"""Test mode's simulated platforms: one adapter per network that behaves like the real one.

Each answers after a realistic pause, checks the platform's own rules, and hands back ids
and URLs in the network's real formats. What it "posts" is written to `sandbox_posts`, the
sandbox's own record, in its own transaction, exactly as a real network keeps its posts
apart from ours; `lookup` reads that record, so reconciliation after a crash is exercised
for real. `X-Test-Scenario` on the publish call makes the platforms fail on demand:

- `token_expired`: every item fails as a revoked token does (not retried);
- `rate_limited`: each item's first try is refused with the platform's 429 and a 1 s reset;
  the engine waits and the retry posts;
- `media_rejected`: items carrying media are refused (not retried); text-only items post;
- `timeout`: each item's first try makes the post but the answer never arrives; the engine
  looks the post up before trying again and finds it, so nothing is posted twice;
- `partial`: items at odd positions (the 2nd, 4th, …) are refused; the rest post.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import timedelta

from sqlalchemy import select

from powerpost.kit.clock import utcnow
from powerpost.kit.ids import new_id
from powerpost.kit.platforms import PLATFORMS, validate_item
from powerpost.models import SandboxPost
from powerpost.publishing.adapters import (
    CONTENT_REJECTED,
    MEDIA_REJECTED,
    PLATFORM_TIMEOUT,
    RATE_LIMITED,
    TOKEN_EXPIRED,
    AdapterContext,
    Metrics,
    OutgoingItem,
    PlatformAdapter,
    PlatformError,
    PublishedPost,
    register_adapter,
)

SCENARIOS = ("token_expired", "rate_limited", "media_rejected", "timeout", "partial")
_random = secrets.SystemRandom()
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_YT = _BASE62 + "-_"

# What each network answers when a token has expired or it is rate limiting, in its own
# words (the shapes of its documented error bodies), for the attempt history.
_EXPIRED_BODY = {
    "instagram": '{"error":{"message":"Error validating access token: Session has expired",'
    '"type":"OAuthException","code":190,"error_subcode":463}}',
    "facebook": '{"error":{"message":"Error validating access token: Session has expired",'
    '"type":"OAuthException","code":190,"error_subcode":463}}',
    "tiktok": '{"error":{"code":"access_token_invalid","message":"The access token is '
    'invalid or not found in the request.","log_id":"sandbox"}}',
    "youtube": '{"error":{"code":401,"message":"Request had invalid authentication '
    'credentials.","status":"UNAUTHENTICATED"}}',
    "x": '{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}',
    "linkedin": '{"status":401,"serviceErrorCode":65601,"code":"REVOKED_ACCESS_TOKEN",'
    '"message":"The token used in the request has been revoked by the user"}',
}
_RATE_BODY = {
    "instagram": '{"error":{"message":"Application request limit reached","code":4}}',
    "facebook": '{"error":{"message":"Application request limit reached","code":4}}',
    "tiktok": '{"error":{"code":"rate_limit_exceeded","message":"API rate limit exceeded"}}',
    "youtube": '{"error":{"code":403,"message":"quotaExceeded","status":"PERMISSION_DENIED"}}',
    "x": '{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank",'
    '"status":429}',
    "linkedin": '{"status":429,"message":"Resource level throttle limit reached"}',
}


def _digits(n: int) -> str:
    return str(_random.randint(10 ** (n - 1), 10**n - 1))


def _handle(workspace_id: str) -> str:
    # A stable account name per workspace, as a connected account would have.
    return "pp_sandbox_" + hashlib.sha256(workspace_id.encode()).hexdigest()[:8]


def make_ids(platform: str, post_type: str, workspace_id: str) -> PublishedPost:
    """An id and public URL in the network's real format."""
    user = _handle(workspace_id)
    if platform == "instagram":
        media_id = _digits(17)
        code = "".join(_random.choice(_YT) for _ in range(11))
        if post_type == "instagram-story":
            return PublishedPost(media_id, f"https://www.instagram.com/stories/{user}/{media_id}/")
        kind = "reel" if post_type == "instagram-reel" else "p"
        return PublishedPost(media_id, f"https://www.instagram.com/{kind}/{code}/")
    if platform == "tiktok":
        video_id = "7" + _digits(18)
        kind = "photo" if post_type == "tiktok-photos" else "video"
        return PublishedPost(video_id, f"https://www.tiktok.com/@{user}/{kind}/{video_id}")
    if platform == "youtube":
        video_id = "".join(_random.choice(_YT) for _ in range(11))
        if post_type == "youtube-short":
            return PublishedPost(video_id, f"https://www.youtube.com/shorts/{video_id}")
        return PublishedPost(video_id, f"https://www.youtube.com/watch?v={video_id}")
    if platform == "x":
        tweet_id = "1" + _digits(18)
        return PublishedPost(tweet_id, f"https://x.com/{user}/status/{tweet_id}")
    if platform == "facebook":
        page_id, post_id = "1" + _digits(14), "1" + _digits(16)
        if post_type == "facebook-reel":
            return PublishedPost(post_id, f"https://www.facebook.com/reel/{post_id}")
        if post_type == "facebook-story":
            return PublishedPost(post_id, f"https://www.facebook.com/stories/{page_id}/{post_id}")
        return PublishedPost(
            f"{page_id}_{post_id}", f"https://www.facebook.com/{page_id}/posts/{post_id}"
        )
    if platform == "linkedin":
        urn = "urn:li:share:7" + _digits(18)
        return PublishedPost(urn, f"https://www.linkedin.com/feed/update/{urn}/")
    raise ValueError(f"unknown platform {platform!r}")


class SandboxPlatform:
    """A simulated network (see the module docstring)."""

    def __init__(self, ctx: AdapterContext, platform: str) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}")
        self.name = f"sandbox:{platform}"
        self.platform = platform
        self._ctx = ctx

    async def _pause(self) -> None:
        low, high = self._ctx.settings.sandbox_latency_ms
        if high > 0:
            await asyncio.sleep(_random.uniform(low, high) / 1000)

    async def validate(self, item: OutgoingItem) -> str | None:
        return validate_item(
            item.post_type,
            item.content,
            item.title,
            [m.kind for m in item.media],
            [m.duration_seconds for m in item.media if m.duration_seconds is not None],
        )

    def _refusal(self, item: OutgoingItem) -> PlatformError | None:
        scenario = item.scenario
        if scenario == "token_expired":
            return PlatformError(
                TOKEN_EXPIRED,
                f"{self.platform} says the connection's access token has expired; "
                "reconnect the account",
                raw=_EXPIRED_BODY[self.platform],
            )
        if scenario == "rate_limited" and item.attempt == 1:
            return PlatformError(
                RATE_LIMITED,
                f"{self.platform} is rate limiting this account; retrying after its reset",
                raw=_RATE_BODY[self.platform],
                retryable=True,
                retry_after=1.0,
            )
        if scenario == "media_rejected" and item.media:
            return PlatformError(
                MEDIA_REJECTED,
                f"{self.platform} could not process the media of this item",
                raw=json.dumps({"error": {"message": "Media processing failed", "code": 2207026}}),
            )
        if scenario == "partial" and item.position % 2 == 1:
            return PlatformError(
                CONTENT_REJECTED,
                f"{self.platform} refused the content of this item",
                raw=json.dumps({"error": {"message": "Content violates community standards"}}),
            )
        return None

    async def publish(self, item: OutgoingItem) -> PublishedPost:
        refusal = self._refusal(item)
        if refusal is None:
            problem = await self.validate(item)
            if problem is not None:
                refusal = PlatformError(
                    CONTENT_REJECTED, problem, raw=json.dumps({"error": problem})
                )
        if refusal is not None:
            await self._pause()
            raise refusal
        made = make_ids(self.platform, item.post_type, item.workspace_id)
        # The platform stores the post within its answer's latency. Its store is a table of
        # ours only because it is simulated: a real network's storage never waits on our
        # database's write lock, so the write runs during the pause, not after it.
        await asyncio.gather(self._pause(), self._store(item, made))
        if item.scenario == "timeout" and item.attempt == 1:
            # The post exists on the platform, but its answer is lost on the way back.
            raise PlatformError(
                PLATFORM_TIMEOUT,
                f"{self.platform} did not answer in time",
                raw="read timeout after the request was sent",
                retryable=True,
                retry_after=0.5,
                ambiguous=True,
            )
        return made

    async def _store(self, item: OutgoingItem, made: PublishedPost) -> None:
        async with self._ctx.db.write() as session:
            session.add(
                SandboxPost(
                    id=new_id(),
                    workspace_id=item.workspace_id,
                    platform=self.platform,
                    post_type=item.post_type,
                    client_reference=item.client_reference,
                    platform_post_id=made.platform_post_id,
                    platform_url=made.platform_url,
                    body={
                        "content": item.content,
                        "title": item.title,
                        "media": [m.media_id for m in item.media],
                    },
                    created_at=utcnow(),
                )
            )

    async def lookup(self, item: OutgoingItem) -> PublishedPost | None:
        await self._pause()
        async with self._ctx.db.read() as session:
            stmt = (
                select(SandboxPost)
                .where(
                    SandboxPost.platform == self.platform,
                    SandboxPost.client_reference == item.client_reference,
                )
                .order_by(SandboxPost.created_at)
                .limit(1)
            )
            found = (await session.execute(stmt)).scalar_one_or_none()
        if found is None:
            return None
        return PublishedPost(found.platform_post_id, found.platform_url)

    async def fetch_metrics(self, platform_post_id: str) -> Metrics:
        await self._pause()
        async with self._ctx.db.read() as session:
            stmt = select(SandboxPost).where(SandboxPost.platform_post_id == platform_post_id)
            found = (await session.execute(stmt)).scalar_one_or_none()
        now = utcnow()
        if found is None:
            return Metrics(views=0, likes=0, comments=0, fetched_at=now)
        # Audiences grow with age, steadily and the same for every reader of one post.
        hours = max(0.0, (now - found.created_at) / timedelta(hours=1))
        seed = int(hashlib.sha256(platform_post_id.encode()).hexdigest()[:6], 16) % 50 + 10
        views = int(seed * hours * 3)
        return Metrics(views=views, likes=views // 12, comments=views // 90, fetched_at=now)


def _sandbox(ctx: AdapterContext, platform: str) -> PlatformAdapter:
    return SandboxPlatform(ctx, platform)


for _platform in PLATFORMS:
    register_adapter("test", _platform, _sandbox)
