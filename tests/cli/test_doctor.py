"""`powerpost doctor`: one line per provider, saying OK or exactly what is wrong."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.fixtures.processes import cli, free_port
from tests.generation.support import serve_on_loopback

from powerpost.cli.doctor import check_providers
from powerpost.config import ProviderSettings, load_settings

KEY = "sk-doctor"
SERVED = ["llama3.2", "whisper-1", "gpt-image-1"]


def _models(request: Request) -> JSONResponse:
    if request.headers.get("authorization") != f"Bearer {KEY}":
        return JSONResponse({"error": {"message": "bad key"}}, 401)
    return JSONResponse({"object": "list", "data": [{"id": m, "object": "model"} for m in SERVED]})


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/models", _models)])
    with serve_on_loopback(app) as base:
        yield base


def _openai(base: str, **changes: object) -> ProviderSettings:
    settings = ProviderSettings(
        captions="openai",
        openai_base_url=f"{base}/v1",
        openai_api_key=KEY,
        openai_caption_model="llama3.2",
    )
    return dataclasses.replace(settings, **changes)  # type: ignore[arg-type]


async def test_offline_providers_are_tried_for_real() -> None:
    checks = await check_providers(ProviderSettings())
    assert [(c.task, c.provider) for c in checks] == [
        ("captions", "offline"),
        ("images", "offline"),
        ("videos", "offline"),
    ]
    assert checks[0].ok
    assert checks[1].ok


async def test_a_served_model_is_ok(server: str) -> None:
    checks = await check_providers(_openai(server, openai_transcribe_model="whisper-1"))
    assert checks[0].task == "captions"
    assert checks[0].ok, checks[0].detail
    assert checks[0].line() == "captions: openai: OK: llama3.2 served"
    assert checks[1].task == "transcription"
    assert checks[1].ok


async def test_a_missing_model_names_the_setting_and_what_is_served(server: str) -> None:
    checks = await check_providers(_openai(server, openai_caption_model="gpt-4o-mini"))
    assert not checks[0].ok
    assert "'gpt-4o-mini'" in checks[0].detail
    assert "POWERPOST_OPENAI_CAPTION_MODEL" in checks[0].detail
    assert "llama3.2" in checks[0].detail


async def test_a_wrong_key_is_named(server: str) -> None:
    checks = await check_providers(_openai(server, openai_api_key="sk-wrong"))
    assert not checks[0].ok
    assert "HTTP 401" in checks[0].detail
    assert "POWERPOST_OPENAI_API_KEY" in checks[0].detail


async def test_a_base_url_without_v1_is_named(server: str) -> None:
    checks = await check_providers(_openai(server, openai_base_url=server))
    assert not checks[0].ok
    assert "HTTP 404" in checks[0].detail
    assert "/v1" in checks[0].detail


async def test_a_server_that_is_not_running_is_named() -> None:
    base = f"http://127.0.0.1:{free_port()}"
    checks = await check_providers(_openai(base), wait=2.0)
    assert not checks[0].ok
    assert "cannot connect" in checks[0].detail
    assert "POWERPOST_OPENAI_BASE_URL" in checks[0].detail


def test_the_command_prints_one_line_per_provider_and_fails_on_a_problem(
    env: dict[str, str], server: str
) -> None:
    openai_env = {
        **env,
        "POWERPOST_CAPTIONS_PROVIDER": "openai",
        "POWERPOST_OPENAI_BASE_URL": f"{server}/v1",
        "POWERPOST_OPENAI_API_KEY": KEY,
        "POWERPOST_OPENAI_CAPTION_MODEL": "llama3.2",
    }
    result = cli(openai_env, "doctor", check=False)
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "captions: openai: OK: llama3.2 served"
    assert lines[1].startswith("images: offline: OK")
    assert len(lines) == 3

    wrong = cli({**openai_env, "POWERPOST_OPENAI_API_KEY": "sk-nope"}, "doctor", check=False)
    assert wrong.returncode == 1
    assert wrong.stdout.splitlines()[0].startswith("captions: openai: FAILED: ")
    assert "HTTP 401" in wrong.stdout

    as_json = cli(openai_env, "doctor", "--json", check=False)
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is (as_json.returncode == 0)
    assert [c["task"] for c in payload["checks"]] == ["captions", "images", "videos"]
    assert payload["checks"][0] == {
        "task": "captions",
        "provider": "openai",
        "ok": True,
        "detail": "llama3.2 served",
    }


def _readme_blocks() -> dict[str, dict[str, str]]:
    """The env blocks of the README's "Real AI" section, by the bold name before each."""
    text = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Real AI", 1)[1].split("\n## ", 1)[0]
    blocks: dict[str, dict[str, str]] = {}
    for name, body in re.findall(r"\*\*(\w+)\*\*.*?```bash\n(.*?)```", section, re.S):
        lines = [line.split("=", 1) for line in body.splitlines() if "=" in line]
        blocks[name] = {pair[0]: pair[1] for pair in lines}
    return blocks


def test_the_readme_settings_load(tmp_path: Path) -> None:
    blocks = _readme_blocks()
    assert set(blocks) == {"OpenAI", "Ollama", "LocalAI", "vLLM"}
    for name, values in blocks.items():
        settings = load_settings({**values, "POWERPOST_DATA_DIR": str(tmp_path)})
        assert settings.providers.captions == "openai", name
        assert settings.providers.openai_caption_model == values["POWERPOST_OPENAI_CAPTION_MODEL"]
    local = load_settings({**blocks["LocalAI"], "POWERPOST_DATA_DIR": str(tmp_path)})
    assert set(local.providers.image_model_map.values()) == {"stablediffusion"}
