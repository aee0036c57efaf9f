"""Media fixtures, all generated on the fly: ffmpeg's lavfi test sources for videos."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from powerpost.kit.ffmpeg import ffmpeg_exe

_TESTSRC = "testsrc=size=320x240:rate=25:duration={d}"
_SINE = "sine=frequency=440:sample_rate=48000:duration={d}"
_H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-hide_banner", "-v", "error", "-y", *args],
        check=True,
        timeout=60,
    )


@pytest.fixture(scope="session")
def videos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Named sample videos; built once per session because encoding dominates the run."""
    root = tmp_path_factory.mktemp("videos")
    out = {name: root / f"sample-{name}" for name in _NAMES}
    av = ["-f", "lavfi", "-i", _TESTSRC.format(d=2), "-f", "lavfi", "-i", _SINE.format(d=2)]
    _ffmpeg(*av, *_H264, "-c:a", "aac", "-shortest", "-f", "mp4", str(out["mp4"]))
    _ffmpeg(
        "-f", "lavfi", "-i", _TESTSRC.format(d=2), *_H264, "-an", "-f", "mp4", str(out["silent"])
    )
    _ffmpeg(*av, *_H264, "-c:a", "aac", "-shortest", "-f", "mov", str(out["mov"]))
    _ffmpeg(
        *av,
        *["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
        *["-c:a", "libopus", "-shortest", "-f", "webm", str(out["webm-vp9"])],
    )
    _ffmpeg(
        *av,
        *["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
        *["-c:a", "libvorbis", "-shortest", "-f", "webm", str(out["webm-vp8"])],
    )
    _ffmpeg(
        "-f", "lavfi", "-i", "color=c=red:size=160x120:rate=25:duration=1",
        *_H264, "-an", "-f", "mp4", str(out["red"]),
    )  # fmt: skip
    _ffmpeg(
        "-f", "lavfi", "-i", _TESTSRC.format(d=0.4), *_H264, "-an", "-f", "mp4", str(out["short"])
    )
    # The rotation is container metadata, so it is added by a stream copy (an encode drops it).
    _ffmpeg(
        "-i", str(out["silent"]), "-c", "copy", "-metadata:s:v:0", "rotate=90",
        "-f", "mp4", str(out["rotated"]),
    )  # fmt: skip
    return out


_NAMES = ("mp4", "silent", "mov", "webm-vp9", "webm-vp8", "red", "short", "rotated")
