"""The dashboard's Writing styles page: list, create, edit, delete, per workspace, with
CSRF, field errors shown next to the form, and the style's ID usable in the API."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from tests.dashboard.support import sign_in_tenant
from tests.fixtures.factories import Factory, headers
from tests.generation.support import Api, make_api

from powerpost.generation import styles

PAGE = "/writing-styles"
STYLE_ROW = re.compile(r'<tr id="style-([0-9a-f-]{36})" class="style-row">')


def form(workspace_id: str, csrf: str, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf,
        "workspace": workspace_id,
        "name": "Cheerful",
        "tone": "warm, upbeat and short",
        "emoji_use": "heavy",
        "hashtag_count": "5",
        "example_post": ["Good morning, bread lovers!", "", "Fresh out of the oven."],
    }
    data.update(changes)
    return data


async def test_create_edit_use_and_delete_a_style(
    api: Api, client: httpx.AsyncClient, app: FastAPI
) -> None:
    csrf = await sign_in_tenant(client, api.tenant)
    empty = await client.get(PAGE)
    assert empty.status_code == 200
    assert "No writing styles in this workspace yet" in empty.text
    assert '<a href="/writing-styles" aria-current="page">Writing styles</a>' in empty.text

    # without the CSRF token nothing is created
    refused = await client.post(PAGE, data=form(api.tenant.workspace_id, "wrong"))
    assert refused.status_code == 403
    async with app.state.db.read() as session:
        assert await styles.list_styles(session, api.tenant.workspace_id) == []

    created = await client.post(PAGE, data=form(api.tenant.workspace_id, csrf))
    assert created.status_code == 303
    assert created.headers["location"] == f"{PAGE}?workspace={api.tenant.workspace_id}&done=created"
    listing = await client.get(created.headers["location"])
    assert "Writing style created" in listing.text
    (style_id,) = STYLE_ROW.findall(listing.text)
    assert "warm, upbeat and short" in listing.text
    assert "Emoji: heavy · 5 hashtags · 2 examples" in listing.text

    async with app.state.db.read() as session:
        (row,) = await styles.list_styles(session, api.tenant.workspace_id)
    assert row.id == style_id
    assert row.example_posts == ["Good morning, bread lovers!", "Fresh out of the oven."]

    # the edit form comes pre-filled; saving changes the stored style
    edit_page = await client.get(f"{PAGE}?edit={style_id}")
    assert f'action="/writing-styles/{style_id}/edit"' in edit_page.text
    assert 'value="warm, upbeat and short"' in edit_page.text
    assert ">Fresh out of the oven.</textarea>" in edit_page.text
    calm = form(
        api.tenant.workspace_id,
        csrf,
        name="Calm",
        tone="calm and precise",
        emoji_use="none",
        hashtag_count="0",
        example_post=["We fixed the oven."],
    )
    saved = await client.post(f"{PAGE}/{style_id}/edit", data=calm)
    assert saved.status_code == 303
    # Saved from the in-place (htmx) form: the whole page reloads, so the row above the
    # form shows the new name and the notice appears, rather than only the form closing.
    in_place = await client.post(
        f"{PAGE}/{style_id}/edit", headers={"HX-Request": "true"}, data=calm
    )
    assert in_place.status_code == 200
    reloaded = in_place.headers["hx-redirect"]
    assert reloaded == f"{PAGE}?workspace={api.tenant.workspace_id}&done=saved"
    assert "Writing style saved" in (await client.get(reloaded)).text
    async with app.state.db.read() as session:
        (row,) = await styles.list_styles(session, api.tenant.workspace_id)
    assert (row.name, row.tone, row.emoji_use, row.hashtag_count) == (
        "Calm",
        "calm and precise",
        "none",
        0,
    )
    assert row.example_posts == ["We fixed the oven."]

    # the ID shown on the page is what the API takes
    response = await api.generate(
        prompt="The oven is fixed and the bakery reopens tomorrow",
        post_types=["instagram-feed"],
        research_mode="regular",
        writing_style_id=style_id,
    )
    assert response.status_code == 200, response.text
    done = await api.wait(response.json()["generation_id"])
    assert "#" not in done["outputs"]["instagram"]

    confirm = await client.get(f"{PAGE}?delete={style_id}")
    assert f'action="/writing-styles/{style_id}/delete"' in confirm.text
    deleted = await client.post(
        f"{PAGE}/{style_id}/delete", data={"csrf_token": csrf, "workspace": api.tenant.workspace_id}
    )
    assert deleted.status_code == 303
    assert "done=deleted" in deleted.headers["location"]
    again = await client.post(
        f"{PAGE}/{style_id}/delete", data={"csrf_token": csrf, "workspace": api.tenant.workspace_id}
    )
    assert again.status_code == 404
    # the generation that used it keeps its captions; the API now refuses the ID
    assert (await api.get(done["generation_id"])).json()["outputs"] == done["outputs"]
    gone = await api.generate(
        prompt="Another post",
        post_types=["x-post"],
        research_mode="regular",
        writing_style_id=style_id,
    )
    assert gone.status_code == 404


async def test_field_errors_are_shown_and_nothing_is_saved(
    api: Api, client: httpx.AsyncClient, app: FastAPI
) -> None:
    csrf = await sign_in_tenant(client, api.tenant)
    bad = await client.post(
        PAGE,
        data=form(
            api.tenant.workspace_id,
            csrf,
            name="  ",
            tone="t" * 201,
            emoji_use="lots",
            hashtag_count="31",
            example_post=["x" * 2201],
        ),
    )
    assert bad.status_code == 400
    html = bad.text
    assert "Give the style a name." in html
    assert "The tone can be at most 200 characters." in html
    assert "Choose none, light or heavy emoji use." in html
    assert "The hashtag count is a whole number from 0 to 30." in html
    assert "Each example post can be at most 2200 characters." in html
    assert html.count('aria-invalid="true"') >= 4
    # the typed values come back (so nothing the user wrote is lost)
    assert 'value="31"' in html
    async with app.state.db.read() as session:
        assert await styles.list_styles(session, api.tenant.workspace_id) == []

    ok = await client.post(PAGE, data=form(api.tenant.workspace_id, csrf))
    assert ok.status_code == 303
    duplicate = await client.post(PAGE, data=form(api.tenant.workspace_id, csrf, name="CHEERFUL"))
    assert duplicate.status_code == 400
    assert "Another writing style already has this name." in duplicate.text


async def test_styles_belong_to_one_workspace(
    api: Api, client: httpx.AsyncClient, app: FastAPI, factory: Factory
) -> None:
    second = await factory.workspace(api.tenant, name="Shop two")
    csrf = await sign_in_tenant(client, api.tenant)
    made = await client.post(PAGE, data=form(second, csrf, name="Second voice"))
    assert made.status_code == 303
    first_page = await client.get(PAGE)
    assert "Second voice" not in first_page.text
    second_page = await client.get(f"{PAGE}?workspace={second}")
    (style_id,) = STYLE_ROW.findall(second_page.text)
    assert "Second voice" in second_page.text
    assert 'name="workspace"' in second_page.text

    # the API honours the same boundary: the first workspace cannot use it
    response = await api.generate(
        prompt="Hello there",
        post_types=["x-post"],
        research_mode="regular",
        writing_style_id=style_id,
    )
    assert response.status_code == 404
    ok = await client.post(
        "/api/v1/content/generate",
        json={
            "prompt": "Hello there",
            "post_types": ["x-post"],
            "research_mode": "regular",
            "writing_style_id": style_id,
        },
        headers=headers(api.secret, second),
    )
    assert ok.status_code == 200, ok.text

    # another account cannot see, edit or delete it, even knowing its id
    other = await make_api(client, app, factory)
    client.cookies.clear()
    other_csrf = await sign_in_tenant(client, other.tenant)
    assert (await client.get(f"{PAGE}?workspace={second}")).status_code == 404
    edit = await client.post(
        f"{PAGE}/{style_id}/edit", data=form(other.tenant.workspace_id, other_csrf)
    )
    assert edit.status_code == 404
    delete = await client.post(
        f"{PAGE}/{style_id}/delete",
        data={"csrf_token": other_csrf, "workspace": other.tenant.workspace_id},
    )
    assert delete.status_code == 404
    async with app.state.db.read() as session:
        assert len(await styles.list_styles(session, second)) == 1


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(PAGE)
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")
    anonymous_post = await client.post(PAGE, data={"name": "x"})
    assert anonymous_post.status_code in (302, 303)
