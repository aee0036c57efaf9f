from tests.dashboard.support import sign_in_tenant
from tests.media.support import api_client, image_bytes

async def test_peek(app, client, factory):
    api = await api_client(client, factory)
    mid = (await api.upload(image_bytes("PNG", (300, 150)), "image", "a.png")).json()["media_id"]
    await sign_in_tenant(client, api.tenant)
    html = (await client.get(f"/media?preview={mid}")).text
    start = html.index("<main")
    print(html[start:start+6000])
