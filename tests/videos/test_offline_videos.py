"""The offline video provider: real MP4s checked with ffprobe and decoded frames."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from powerpost.kit.ffmpeg import ffmpeg_exe, input_url, probe, run_tool
from powerpost.videos.providers.base import ProviderError, VideoRequest
from powerpost.videos.providers.offline import OfflineVideoProvider


def _request(**changes: Any) -> VideoRequest:
    fields: dict[str, Any] = {
        "prompt": "Autumn menu launch: pumpkin soup and warm bread",
        "size": "landscape",
        "duration": 4,
        "model": "veo-3.1",
        "has_audio": False,
        "enhance_prompt": False,
    }
    fields.update(changes)
    return VideoRequest(**fields)


def _streams(info: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [s for s in info["streams"] if s["codec_type"] == kind]


def _frame_at(path: Path, seconds: float) -> Image.Image:
    png = run_tool(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-ss",
            str(seconds),
            "-i",
            input_url(path),
            "-frames:v",
            "1",
            "-f",
            "image2pipe",
            "-c:v",
            "png",
            "-",
        ],
        timeout=30,
    )
    return Image.open(io.BytesIO(png)).convert("RGB")


async def test_card_video_with_audio_bed(tmp_path: Path) -> None:
    video = await OfflineVideoProvider().generate(
        _request(duration=4, has_audio=True, enhance_prompt=True), tmp_path
    )

    assert video.path.parent == tmp_path
    assert video.path.suffix == ".mp4"
    info = probe(video.path)
    (stream,) = _streams(info, "video")
    assert stream["codec_name"] == "h264"
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (1280, 720)
    assert float(stream["duration"]) == pytest.approx(4.0, abs=0.05)
    assert float(info["format"]["duration"]) == pytest.approx(4.0, abs=0.05)
    (audio,) = _streams(info, "audio")
    assert audio["codec_name"] == "aac"
    assert float(audio["duration"]) == pytest.approx(4.0, abs=0.05)

    assert (video.width, video.height) == (1280, 720)
    assert video.duration_seconds == pytest.approx(4.0, abs=0.05)
    assert video.has_audio is True
    data = video.path.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: playable while downloading
    leftovers = sorted(p.name for p in tmp_path.iterdir())  # noqa: ASYNC240
    assert leftovers == [video.path.name]  # the still was cleaned up

    first, last = _frame_at(video.path, 0.1), _frame_at(video.path, 3.8)
    assert first.tobytes() != last.tobytes()  # the camera moves


async def test_source_image_video_without_audio(tmp_path: Path) -> None:
    source = Image.new("RGB", (1600, 1200), (20, 150, 140))
    source.paste((240, 200, 40), (700, 500, 900, 700))
    source_path = tmp_path / "upload.jpg"
    source.save(source_path, quality=92)
    workdir = tmp_path / "work"

    video = await OfflineVideoProvider().generate(
        _request(size="portrait", duration=5, model="kling-3.0-pro", source_image=source_path),
        workdir,
    )

    info = probe(video.path)
    (stream,) = _streams(info, "video")
    assert stream["codec_name"] == "h264"
    assert stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (720, 1280)
    assert float(info["format"]["duration"]) == pytest.approx(5.0, abs=0.05)
    assert _streams(info, "audio") == []
    assert video.has_audio is False
    assert (video.width, video.height, video.duration_seconds) == (720, 1280, 5.0)

    frame = _frame_at(video.path, 2.5)
    corner = frame.crop((0, 0, 120, 120)).resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert isinstance(corner, tuple)
    assert all(abs(a - b) < 20 for a, b in zip(corner, (20, 150, 140), strict=True))
    centre = frame.crop((340, 620, 380, 660)).resize((1, 1), Image.Resampling.BOX)
    red, _, blue = centre.getpixel((0, 0))  # type: ignore[misc]
    # the yellow square stays in the middle of the crop
    assert red > 200
    assert blue < 90


def test_arguments_keep_the_duration_exact_and_audio_optional(tmp_path: Path) -> None:
    provider = OfflineVideoProvider()
    silent = provider.ffmpeg_args(_request(duration=5), tmp_path / "s.png", tmp_path / "o.mp4")
    loud = provider.ffmpeg_args(
        _request(duration=10, has_audio=True), tmp_path / "s.png", tmp_path / "o.mp4"
    )

    assert ":d=125:" in silent[silent.index("-filter_complex") + 1]
    assert silent[silent.index("-t") + 1] == "5"
    assert "-an" in silent
    assert "lavfi" not in silent
    assert ":d=250:" in loud[loud.index("-filter_complex") + 1]
    assert loud.count("lavfi") == 3
    assert loud[loud.index("-c:a") + 1] == "aac"
    assert (
        provider.ffmpeg_args(_request(duration=5), tmp_path / "s.png", tmp_path / "o.mp4") == silent
    )  # deterministic


async def test_unreadable_source_image_is_a_provider_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")

    with pytest.raises(ProviderError, match="source image"):
        await OfflineVideoProvider().generate(_request(source_image=broken), tmp_path / "w")


async def test_missing_ffmpeg_is_a_provider_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERPOST_FFMPEG", str(tmp_path / "no-such-ffmpeg"))

    with pytest.raises(ProviderError, match="ffmpeg is not available"):
        await OfflineVideoProvider().generate(_request(), tmp_path / "w")
    assert [p.suffix for p in (tmp_path / "w").iterdir()] == []
