"""`powerpost doctor`: does each configured AI provider answer? One line per task.

The offline providers are tried for real in-process (a caption written, a card drawn,
ffmpeg found). An OpenAI-compatible server (OpenAI, Ollama, LocalAI, vLLM) gets one
cheap call, `GET {POWERPOST_OPENAI_BASE_URL}/models` with the key and a bounded timeout,
shared by every task that uses it; each task then checks that its model is among the
ones the server offers. A failure says exactly what is wrong and which setting to look
at; the exit status is 1 when any check failed.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from typing import Annotated

import httpx
import typer

from powerpost.cli.common import AsJson, emit, one_line, settings_or_exit
from powerpost.config import ProviderSettings
from powerpost.generation.providers.base import CaptionRequest
from powerpost.generation.providers.offline import OfflineCaptionProvider
from powerpost.kit.cards import CardText, render_card
from powerpost.kit.ffmpeg import ToolMissing, ffmpeg_exe

POSITION = 90
group = typer.Typer(
    name="doctor",
    help="Check that each configured AI provider answers.",
    invoke_without_command=True,
)

# a doctor that hangs is no help: never wait longer than this for the server
_MAX_WAIT = 10.0


@dataclass(frozen=True)
class Check:
    task: str  # captions, images, videos, transcription
    provider: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.task}: {self.provider}: {'OK' if self.ok else 'FAILED'}: {self.detail}"


@dataclass(frozen=True)
class _Listing:
    """What `GET /models` gave: the model ids, or why there are none."""

    models: frozenset[str] | None
    problem: str | None


async def _list_models(providers: ProviderSettings, wait: float) -> _Listing:
    url = f"{providers.openai_base_url}/models"
    headers = {"Authorization": f"Bearer {providers.openai_api_key or ''}"}
    try:
        async with httpx.AsyncClient(timeout=wait, follow_redirects=False) as http:
            response = await http.get(url, headers=headers)
    except httpx.TimeoutException:
        return _Listing(None, f"no answer from {url} within {wait:g} s")
    except httpx.HTTPError as exc:
        reason = one_line(str(exc)) or type(exc).__name__
        return _Listing(
            None, f"cannot connect to {url} ({reason}); check POWERPOST_OPENAI_BASE_URL"
        )
    if response.status_code in (401, 403):
        return _Listing(
            None,
            f"{url} refused the API key (HTTP {response.status_code}); "
            "check POWERPOST_OPENAI_API_KEY",
        )
    if response.status_code == 404:
        return _Listing(
            None,
            f"{url} does not exist (HTTP 404); POWERPOST_OPENAI_BASE_URL usually ends in /v1",
        )
    if response.status_code != 200:
        return _Listing(None, f"{url} answered HTTP {response.status_code}")
    try:
        data = response.json()["data"]
        ids = frozenset(str(item["id"]) for item in data)
    except (ValueError, KeyError, TypeError):
        return _Listing(None, f"{url} did not answer an OpenAI-style model list")
    return _Listing(ids, None)


def _model_check(task: str, wanted: list[str], setting: str, listing: _Listing) -> Check:
    if listing.models is None:
        return Check(task, "openai", False, listing.problem or "no model list")
    missing = [m for m in wanted if m not in listing.models]
    if missing:
        offered = ", ".join(sorted(listing.models)[:8]) or "none"
        return Check(
            task,
            "openai",
            False,
            f"model {missing[0]!r} ({setting}) is not served; the server offers: {offered}",
        )
    return Check(task, "openai", True, f"{', '.join(wanted)} served")


async def _offline_captions() -> Check:
    request = CaptionRequest(platforms=("x",), research_mode="regular", prompt="Doctor check")
    try:
        outputs = await OfflineCaptionProvider().write_captions(request)
    except Exception as exc:  # a doctor reports every failure rather than crash on it
        return Check("captions", "offline", False, one_line(str(exc)))
    ok = bool(outputs.get("x"))
    return Check("captions", "offline", ok, "writes captions" if ok else "wrote nothing")


def _offline_images() -> Check:
    try:
        card = render_card(CardText("Doctor check", "square", "doctor"), pixels=(64, 64))
    except Exception as exc:  # a doctor reports every failure rather than crash on it
        return Check("images", "offline", False, one_line(str(exc)))
    return Check("images", "offline", True, f"draws cards ({card.image.width} px test)")


def _offline_videos() -> Check:
    try:
        path = ffmpeg_exe()
    except ToolMissing as exc:
        return Check("videos", "offline", False, f"ffmpeg not found ({one_line(str(exc))})")
    return Check("videos", "offline", True, f"ffmpeg at {path}")


async def check_providers(providers: ProviderSettings, wait: float = _MAX_WAIT) -> list[Check]:
    """One check per task (and one for transcription when a model is set)."""
    checks: list[Check] = []
    listing: _Listing | None = None
    uses_openai = "openai" in (providers.captions, providers.images, providers.videos)
    if uses_openai:
        listing = await _list_models(providers, min(wait, providers.openai_timeout))
    if providers.captions == "openai" and listing is not None:
        checks.append(
            _model_check(
                "captions",
                [providers.openai_caption_model],
                "POWERPOST_OPENAI_CAPTION_MODEL",
                listing,
            )
        )
        if providers.openai_transcribe_model:
            checks.append(
                _model_check(
                    "transcription",
                    [providers.openai_transcribe_model],
                    "POWERPOST_OPENAI_TRANSCRIBE_MODEL",
                    listing,
                )
            )
    else:
        checks.append(await _offline_captions())
    if providers.images == "openai" and listing is not None:
        wanted = sorted(set(providers.image_model_map.values()))
        checks.append(_model_check("images", wanted, "POWERPOST_IMAGE_MODEL_MAP", listing))
    else:
        checks.append(_offline_images())
    if providers.videos == "openai" and listing is not None:
        wanted = sorted(set(providers.video_model_map.values()))
        checks.append(_model_check("videos", wanted, "POWERPOST_VIDEO_MODEL_MAP", listing))
    else:
        checks.append(_offline_videos())
    return checks


@group.callback()
def doctor(
    as_json: AsJson = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, max=60.0, help="Seconds to wait per call.")
    ] = _MAX_WAIT,
) -> None:
    """Check that each configured AI provider answers; one line per provider."""
    settings = settings_or_exit()
    checks = asyncio.run(check_providers(settings.providers, timeout))
    if as_json:
        emit({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]})
    else:
        for check in checks:
            typer.echo(check.line())
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
