"""Source URLs: fetched with the SSRF-safe fetcher from a real page server on loopback;
pages that cannot be used are not charged; names resolving to internal addresses are
refused; deep research reads more pages and more of each page than regular."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from tests.generation.support import Api, Script, hold, ledger, serve_on_loopback

from powerpost.config import ProviderSettings
from powerpost.generation.tasks import RESOLVER_STATE

PARAGRAPH = (
    "Cold brew coffee is steeped in cold water for eighteen hours, which gives it a smooth, "
    "low-acid taste that many people prefer over hot coffee served on ice. "
)


async def article(request: Request) -> Response:
    n = request.query_params.get("n", "0")
    body = "".join(f"<p>{PARAGRAPH} Fact {n}.{i}.</p>" for i in range(60))  # ~12 000 chars
    return HTMLResponse(
        f"<html><head><title>Cold brew guide {n}</title></head>"
        f"<body><nav>Home | Shop</nav><article><h1>Guide {n}</h1>{body}</article></body></html>"
    )


async def missing(request: Request) -> Response:
    return Response("gone", status_code=404)


async def to_metadata(request: Request) -> Response:
    return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)


async def binary(request: Request) -> Response:
    return Response(b"\x00\x01", media_type="application/octet-stream")


PAGES = Starlette(
    routes=[
        Route("/article", article),
        Route("/missing", missing),
        Route("/to-metadata", to_metadata),
        Route("/binary", binary),
    ]
)


@pytest.fixture(scope="module")
def pages() -> Iterator[str]:
    with serve_on_loopback(PAGES) as base:
        yield base


@pytest.fixture
def provider_settings() -> ProviderSettings:
    # The page server lives on loopback over http: allowed here as an operator might for
    # local development. The SSRF test below runs with the production defaults.
    return ProviderSettings(captions="scripted", allow_http_urls=True, allow_loopback_urls=True)


async def test_usable_pages_feed_the_captions_and_failed_ones_are_refunded(
    api: Api, script: Script, pages: str
) -> None:
    urls = [
        f"{pages}/article?n=1",
        f"{pages}/missing",
        f"{pages}/to-metadata",
        f"{pages}/binary",
        f"{pages}/article?n=2",
    ]
    start = await api.balance()
    response = await api.generate(
        prompt="Why cold brew tastes smoother",
        post_types=["linkedin-post"],
        research_mode="regular",
        source_urls=urls,
    )
    assert response.status_code == 200, response.text
    assert response.json()["credits_used"] == 6 + 5
    done = await api.wait(response.json()["generation_id"])
    generation_id = done["generation_id"]
    assert done["status"] == "completed", done
    assert done["credits_used"] == 6 + 2
    failed = {f["url"]: f["reason"] for f in done["failed_sources"]}
    assert set(failed) == {urls[1], urls[2], urls[3]}
    assert failed[urls[1]] == "HTTP 404"
    assert "redirect refused" in failed[urls[2]]
    assert "private or internal" in failed[urls[2]]
    assert "not text/html" in failed[urls[3]]

    (request,) = script.requests
    assert [s.url for s in request.sources] == [urls[0], urls[4]]
    assert request.sources[0].title == "Cold brew guide 1"
    assert "eighteen hours" in request.sources[0].text
    assert "Home | Shop" not in request.sources[0].text

    # held 11, captured 8, the three unusable sources released
    assert await ledger(api.app, generation_id) == [("hold", -11), ("release", 3)]
    held = await hold(api.app, generation_id)
    assert held is not None
    assert held.captured == 8
    assert await api.balance() == start - 8


async def test_regular_reads_five_short_pages_and_deep_reads_all_of_them(
    api: Api, script: Script, pages: str
) -> None:
    urls = [f"{pages}/article?n={i}" for i in range(7)]
    used: dict[str, int] = {}
    for mode, base in (("regular", 6), ("deep", 8)):
        response = await api.generate(
            prompt="Summarise these cold brew guides",
            post_types=["facebook-post"],
            research_mode=mode,
            source_urls=urls,
        )
        assert response.status_code == 200, response.text
        assert response.json()["credits_used"] == base + 7
        done = await api.wait(response.json()["generation_id"])
        assert done["status"] == "completed"
        used[mode] = done["credits_used"]
    regular, deep = script.requests
    assert [s.url for s in regular.sources] == urls[:5]
    assert [s.url for s in deep.sources] == urls
    assert max(len(s.text) for s in regular.sources) <= 4_000
    assert min(len(s.text) for s in deep.sources) > 4_000
    assert used == {"regular": 6 + 5, "deep": 8 + 7}


class FakeDNS:
    """Answers as an attacker-controlled name server would: public-looking names that
    point inside."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        await asyncio.sleep(0)
        return self.answers[host]


@pytest.mark.parametrize("provider_settings", [ProviderSettings(captions="scripted")])
async def test_names_resolving_to_loopback_or_metadata_are_refused(
    api: Api, script: Script, app: FastAPI
) -> None:
    dns = FakeDNS(
        {
            "intranet.example.com": ["127.0.0.1"],
            "metadata.example.com": ["169.254.169.254"],
            "mixed.example.com": ["93.184.216.34", "10.0.0.8"],
        }
    )
    app.state.jobs.state[RESOLVER_STATE] = dns
    urls = [
        "https://intranet.example.com/admin",
        "https://metadata.example.com/latest/meta-data/iam",
        "https://mixed.example.com/",
    ]
    start = await api.balance()
    response = await api.generate(
        prompt="Write about our internal tools",
        post_types=["x-post"],
        research_mode="regular",
        source_urls=urls,
    )
    assert response.status_code == 200, response.text  # the names look public
    done = await api.wait(response.json()["generation_id"])
    assert done["status"] == "completed"
    assert sorted(dns.asked) == sorted(u.split("/")[2] for u in urls)
    reasons = {f["url"]: f["reason"] for f in done["failed_sources"]}
    assert set(reasons) == set(urls)
    for reason in reasons.values():
        assert reason.startswith("refused")
        assert "private or internal" in reason
        assert "127.0.0.1" not in reason  # the internal answer is never echoed
    (request,) = script.requests
    assert request.sources == ()
    assert done["credits_used"] == 6
    assert await api.balance() == start - 6
