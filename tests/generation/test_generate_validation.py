"""POST /content/generate: every rule of §6.3 is a 400 naming the field, unknown or foreign
objects are 404, a short balance is 402, and a refused request writes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update
from tests.fixtures.factories import Factory, headers
from tests.generation.support import (
    GENERATE,
    Api,
    count_generations,
    count_jobs,
    image_bytes,
    make_api,
    make_mp4,
)

from powerpost.generation import styles
from powerpost.models import Account

TEXT = {
    "prompt": "Our spring sale starts Friday",
    "post_types": ["x-post"],
    "research_mode": "regular",
}


def body(**changes: Any) -> dict[str, Any]:
    result = {**TEXT, **changes}
    return {k: v for k, v in result.items() if v is not ...}


async def assert_400(api: Api, payload: dict[str, Any], field: str, words: str) -> None:
    before = await api.balance()
    # json.dumps escapes what httpx's json= cannot encode (lone surrogates)
    response = await api.http.post(
        GENERATE,
        content=json.dumps(payload),
        headers={**api.headers, "content-type": "application/json"},
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["message"], error
    assert words in error["message"], error
    assert any(d["field"].startswith(field) for d in error["details"]), error
    assert await api.balance() == before
    assert await count_generations(api.app, api.tenant.account_id) == 0
    assert await count_jobs(api.app, api.tenant.account_id) == 0


SAME_ID = "00000000-0000-4000-8000-000000000001"
# (body, field named, words in the message)
INVALID: list[tuple[dict[str, Any], str, str]] = [
    (body(prompt=...), "prompt", "required when no media_ids"),
    (body(prompt=None), "prompt", "required when no media_ids"),
    (body(prompt=None, media_ids=[]), "prompt", "required when no media_ids"),
    (body(prompt="hi"), "prompt", "at least 3"),
    (body(prompt="   hi   "), "prompt", "at least 3"),
    (body(prompt="x" * 2001), "prompt", "at most 2000"),
    (body(post_types=...), "post_types", "required"),
    (body(post_types=[]), "post_types", "at least one"),
    (body(post_types=["x-post", "myspace-post"]), "post_types", "unknown post type"),
    (body(post_types="x-post"), "post_types", "valid list"),
    (body(research_mode=...), "research_mode", "required"),
    (body(research_mode="extreme"), "research_mode", "regular"),
    (body(cta_text="c" * 101), "cta_text", "at most 100"),
    (body(source_urls=["https://example.com/" + str(i) for i in range(11)]), "source_urls", "at most 10"),
    (body(source_urls=["http://example.com/page"]), "source_urls", "must use https"),
    (body(source_urls=["ftp://example.com/page"]), "source_urls", "must use https"),
    (body(source_urls=["https://127.0.0.1/admin"]), "source_urls", "private or internal"),
    (body(source_urls=["https://169.254.169.254/latest/meta-data/"]), "source_urls", "private or internal"),
    (body(source_urls=["https://[::1]/"]), "source_urls", "private or internal"),
    (body(source_urls=["https://localhost/x"]), "source_urls", "private or internal"),
    (body(source_urls=["https://user:pw@example.com/"]), "source_urls", "user name or password"),
    (body(source_urls=["https://example.com/a", "https://example.com/a"]), "source_urls", "more than once"),
    (body(source_urls=[5]), "source_urls", "valid string"),
    (body(media_ids=[f"00000000-0000-4000-8000-{i:012d}" for i in range(11)]), "media_ids", "at most 10"),
    (body(media_ids=[SAME_ID, SAME_ID]), "media_ids", "more than once"),
    (body(extra_field=1), "extra_field", "Unknown field"),
    (body(prompt=123), "prompt", "valid string"),
    (body(prompt="hello \ud800 lone"), "prompt", "unpaired surrogate (U+D800)"),
    (body(cta_text="go\x00now"), "cta_text", "control character (U+0000)"),
    (body(media_ids=["\udfff"]), "media_ids.0", "unpaired surrogate"),
    (body(writing_style_id="\ud800"), "writing_style_id", "unpaired surrogate"),
    (body(post_types=["x-post\ud800"]), "post_types.0", "unpaired surrogate"),
    (body(prompt="bell \x07 ring"), "prompt", "control character (U+0007)"),
]  # fmt: skip


async def test_tabs_and_line_breaks_are_fine_in_text(api: Api) -> None:
    response = await api.http.post(
        GENERATE, json=body(prompt="Line one\r\n\tLine two"), headers=api.headers
    )
    assert response.status_code == 200, response.text


async def test_invalid_bodies_are_400_naming_the_field_and_write_nothing(api: Api) -> None:
    # one app for all cases: each is a request, and nothing may be written by any of them
    for number, (payload, field, words) in enumerate(INVALID):
        if number % 20 == 0:
            await api.app.state.limiter.reset()  # more cases than the generate group allows
        await assert_400(api, payload, field, words)


async def test_duplicate_media_ids_differing_only_in_case_are_caught(api: Api) -> None:
    media_id = await api.upload(image_bytes(), "image", "a.png")
    await assert_400(
        api, body(media_ids=[media_id, media_id.upper()]), "media_ids", "more than once"
    )


async def test_a_body_that_is_not_json_is_400(api: Api) -> None:
    response = await api.http.post(
        GENERATE, content=b"{not json", headers={**api.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


async def test_a_video_cannot_be_mixed_with_images_or_other_videos(api: Api, tmp_path: Any) -> None:
    clip = make_mp4(tmp_path / "clip.mp4").read_bytes()
    video_a = await api.upload(clip, "video", "a.mp4")
    video_b = await api.upload(clip, "video", "b.mp4")
    picture = await api.upload(image_bytes(), "image", "p.png")
    await assert_400(api, body(media_ids=[video_a, picture]), "media_ids", "exactly one video")
    await assert_400(api, body(media_ids=[picture, video_a]), "media_ids", "exactly one video")
    await assert_400(api, body(media_ids=[video_a, video_b]), "media_ids", "exactly one video")


async def test_unknown_malformed_and_foreign_media_are_404(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    # another workspace of the same account, and another account altogether
    second_ws = await factory.workspace(api.tenant)
    same_account_media = await api.http.post(
        "/api/v1/media/upload",
        headers=headers(api.secret, second_ws),
        files={"file": ("x.png", image_bytes(), "image/png")},
        data={"type": "image"},
    )
    other = await make_api(client, app, factory)
    other_media = await other.upload(image_bytes(), "image", "theirs.png")
    own = await api.upload(image_bytes(), "image", "mine.png")
    for foreign in (
        same_account_media.json()["media_id"],
        other_media,
        "00000000-0000-4000-8000-000000000000",
        "not-a-uuid",
    ):
        before = await api.balance()
        response = await api.generate(**body(media_ids=[own, foreign]))
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"
        assert foreign[:20] in response.json()["error"]["message"]
        assert await api.balance() == before
    assert await count_generations(app, api.tenant.account_id) == 0


async def test_unknown_and_foreign_writing_styles_are_404(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    other = await make_api(client, app, factory)
    data = styles.check_style(
        name="Theirs", tone="dry", emoji_use="none", hashtag_count=1, example_posts=[]
    )
    async with app.state.db.write() as session:
        foreign = await styles.create_style(
            session, other.tenant.account_id, other.tenant.workspace_id, data
        )
    for style_id in (foreign.id, "00000000-0000-4000-8000-000000000000", "bogus"):
        response = await api.generate(**body(writing_style_id=style_id))
        assert response.status_code == 404, response.text
        assert "Writing style" in response.json()["error"]["message"]
    assert await count_generations(app, api.tenant.account_id) == 0


async def test_validation_comes_before_lookups(api: Api) -> None:
    """§3 check order: a bad body is 400 even when the media it names does not exist."""
    response = await api.generate(
        **body(media_ids=["00000000-0000-4000-8000-000000000000"], post_types=["nope"])
    )
    assert response.status_code == 400


async def test_not_enough_credits_is_402_and_writes_nothing(api: Api) -> None:
    async with api.app.state.db.write() as session:
        await session.execute(
            update(Account).where(Account.id == api.tenant.account_id).values(balance=7)
        )
    response = await api.generate(**body(research_mode="deep"))  # 8 credits
    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert await api.balance() == 7
    assert await count_generations(api.app, api.tenant.account_id) == 0
    assert await count_jobs(api.app, api.tenant.account_id) == 0
    # exactly enough is fine
    response = await api.generate(**body(research_mode="regular"))
    assert response.status_code == 200
    assert response.json()["remaining_credits"] == 1


async def test_the_generate_scope_is_required(api: Api, factory: Factory) -> None:
    _, secret = await factory.key(api.tenant, scopes=["content:read"])
    response = await api.http.post(
        GENERATE, json=body(), headers=headers(secret, api.tenant.workspace_id)
    )
    assert response.status_code == 403
    assert response.json()["error"]["required_scope"] == "content:generate"


async def test_the_workspace_header_is_required(api: Api) -> None:
    response = await api.http.post(GENERATE, json=body(), headers={"x-api-key": api.secret})
    assert response.status_code == 400


async def test_valid_edge_values_are_accepted(api: Api) -> None:
    response = await api.generate(
        prompt="abc",
        post_types=["x-post", "x-post"],
        research_mode="regular",
        cta_text="c" * 100,
        source_urls=[],
        media_ids=[],
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed"
    assert done["post_types"] == ["x-post"]
    assert done["platforms"] == ["x"]
    long_prompt = await api.generate(**body(prompt="w" * 2000))
    assert long_prompt.status_code == 200
