from __future__ import annotations

import io
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFile

from powerpost.kit import ffmpeg as kit_ffmpeg
from powerpost.kit.ffmpeg import (
    ToolFailed,
    ToolMissing,
    ffmpeg_exe,
    ffprobe_exe,
    probe,
    run_tool,
)
from powerpost.media import inspect as media_inspect
from powerpost.media.inspect import (
    MediaFacts,
    MediaRejected,
    extract_key_frames,
    inspect_file,
    make_thumbnail,
    sniff,
)

HEX = re.compile(r"^#[0-9a-f]{6}$")


# --- helpers --------------------------------------------------------------------------------


def _save(path: Path, im: Image.Image, fmt: str, **params: Any) -> Path:
    im.save(path, fmt, **params)
    return path


def _gradient(size: tuple[int, int]) -> Image.Image:
    w, h = size
    im = Image.new("RGB", size)
    im.putdata([(x * 255 // w, y * 255 // h, 128) for y in range(h) for x in range(w)])
    return im


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


def _ebml(doctype: bytes) -> bytes:
    body = (
        b"\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08"
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04\x42\x85\x81\x02"
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67"


def _png_header_only(width: int, height: int) -> bytes:
    """A structurally valid PNG that claims ``width`` x ``height`` without the pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _close_to(hex_color: str, rgb: tuple[int, int, int], tolerance: int = 12) -> bool:
    actual = tuple(int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return all(abs(a - e) <= tolerance for a, e in zip(actual, rgb, strict=True))


def _decode_jpeg(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    assert im.format == "JPEG"
    return im


# --- sniff ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", ("image", "image/jpeg")),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ("image", "image/png")),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", ("image", "image/webp")),
        (_ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), ("video", "video/mp4")),
        (_ftyp(b"mp42", b"mp42", b"isom"), ("video", "video/mp4")),
        (_ftyp(b"iso5", b"iso5", b"dash"), ("video", "video/mp4")),
        (_ftyp(b"M4V ", b"M4V ", b"M4A ", b"mp42"), ("video", "video/mp4")),
        (_ftyp(b"avc1", b"avc1", b"isom"), ("video", "video/mp4")),
        (_ftyp(b"qt  ", b"qt  "), ("video", "video/quicktime")),
        (_ftyp(b"zzzz", b"isom", b"mp41"), ("video", "video/mp4")),
        (_ebml(b"webm"), ("video", "video/webm")),
    ],
)
def test_sniff_recognises_the_accepted_formats(head: bytes, expected: tuple[str, str]) -> None:
    assert sniff(head + b"\x00" * 64) == expected


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\xff\xd8",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        b"\x7fELF\x02\x01\x01\x00",
        b"PK\x03\x04\x14\x00\x00\x00",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3",
        b"<!DOCTYPE html><html><body>",
        b"GIF89a\x01\x00\x01\x00",
        b"BM\x36\x00\x00\x00",
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        _ftyp(b"heic", b"mif1", b"heic"),
        _ftyp(b"avif", b"avif", b"mif1", b"miaf", b"iso8"),
        _ftyp(b"M4A ", b"M4A ", b"mp42", b"isom"),
        _ftyp(b"zzzz", b"mif1", b"isom"),
        _ftyp(b"3gp4", b"3gp4"),
        _ebml(b"matroska"),
        b"\x1a\x45\xdf\xa3\x80",
    ],
)
def test_sniff_returns_none_for_anything_else(head: bytes) -> None:
    assert sniff(head) is None


def test_sniff_only_looks_at_the_first_64_bytes() -> None:
    assert sniff(b"\x00" * 64 + b"\x89PNG\r\n\x1a\n") is None


def test_sniff_agrees_with_ffmpeg_output(videos: dict[str, Path]) -> None:
    expected = {
        "mp4": "video/mp4",
        "mov": "video/quicktime",
        "webm-vp9": "video/webm",
        "webm-vp8": "video/webm",
    }
    for name, mime in expected.items():
        assert sniff(videos[name].read_bytes()[:64]) == ("video", mime), name


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode", "mime", "ext", "params"),
    [
        ("JPEG", "RGB", "image/jpeg", "jpg", {"quality": 90}),
        ("PNG", "RGBA", "image/png", "png", {}),
        ("WEBP", "RGB", "image/webp", "webp", {"quality": 80}),
    ],
)
def test_image_facts(
    tmp_path: Path, fmt: str, mode: str, mime: str, ext: str, params: dict[str, Any]
) -> None:
    path = _save(tmp_path / "upload.bin", _gradient((300, 200)).convert(mode), fmt, **params)

    facts = inspect_file(path, "image")

    assert facts.kind == "image"
    assert facts.mime_type == mime
    assert facts.extension == ext
    assert (facts.width, facts.height) == (300, 200)
    assert facts.duration_seconds is None
    assert facts.has_audio is None
    assert facts.video_codec is None
    assert facts.audio_codec is None
    assert 1 <= len(facts.dominant_colors) <= 5
    assert all(HEX.match(c) for c in facts.dominant_colors)


@pytest.mark.parametrize(("fmt", "mime"), [("WEBP", "image/webp"), ("PNG", "image/png")])
def test_animated_images_are_accepted_with_first_frame_facts(
    tmp_path: Path, fmt: str, mime: str
) -> None:
    frames = [Image.new("RGB", (50, 40), color) for color in ("red", "green", "blue")]
    path = tmp_path / "anim.bin"
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(path) as check:
        assert getattr(check, "n_frames", 1) == 3

    facts = inspect_file(path, "image")

    assert facts.mime_type == mime
    assert (facts.width, facts.height) == (50, 40)
    assert _close_to(facts.dominant_colors[0], (255, 0, 0))


def test_exif_orientation_swaps_width_and_height(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = _save(tmp_path / "phone.jpg", _gradient((300, 200)), "JPEG", exif=exif.tobytes())

    facts = inspect_file(path, "image")
    size = make_thumbnail(path, facts, tmp_path / "thumb.jpg", max_side=150)

    assert (facts.width, facts.height) == (200, 300)
    assert size == (100, 150)
    with Image.open(tmp_path / "thumb.jpg") as thumb:
        assert thumb.size == (100, 150)


def test_gif_is_not_an_accepted_image(tmp_path: Path) -> None:
    frames = [Image.new("P", (20, 20), i) for i in range(3)]
    path = tmp_path / "anim.png"
    frames[0].save(path, "GIF", save_all=True, append_images=frames[1:])

    with pytest.raises(MediaRejected, match=r"^The file is not a JPEG, PNG or WebP image\.$"):
        inspect_file(path, "image")


def test_truncated_jpeg_is_rejected(tmp_path: Path) -> None:
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    noise = Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3))
    whole = _save(tmp_path / "whole.jpg", noise, "JPEG", quality=90).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])

    assert inspect_file(tmp_path / "whole.jpg", "image").mime_type == "image/jpeg"
    with pytest.raises(MediaRejected, match="not a valid JPEG image: it is truncated or corrupt"):
        inspect_file(cut, "image")


def test_corrupt_png_is_rejected(tmp_path: Path) -> None:
    data = bytearray(_save(tmp_path / "ok.png", _gradient((64, 64)), "PNG").read_bytes())
    start = data.index(b"IDAT") + 4
    data[start : start + 40] = b"\xaa" * 40
    bad = tmp_path / "bad.png"
    bad.write_bytes(bytes(data))

    with pytest.raises(MediaRejected, match="not a valid PNG image"):
        inspect_file(bad, "image")


def test_image_over_50_megapixels_is_rejected_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(10_000, 6_000))

    with pytest.raises(MediaRejected, match=r"10000x6000 pixels: at most 50 megapixels"):
        inspect_file(path, "image")


def test_pillow_decompression_bomb_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "huge.png"
    path.write_bytes(_png_header_only(20_000, 10_000))

    with pytest.raises(MediaRejected, match="too large: at most 50 megapixels"):
        inspect_file(path, "image")


# --- rejections by sniffing -----------------------------------------------------------------


@pytest.mark.parametrize("declared", ["image", "video"])
def test_empty_file_is_rejected(tmp_path: Path, declared: Any) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(MediaRejected, match=r"^The file is empty\.$"):
        inspect_file(path, declared)


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00" + b"\x00" * 200,
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200,
        b"PK\x03\x04" + b"\x00" * 200,
        b"%PDF-1.4\n" + b"x" * 200,
        b"<html><body>hello</body></html>",
    ],
)
def test_non_media_named_png_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(content)
    with pytest.raises(MediaRejected, match=r"^The file is not a JPEG, PNG or WebP image\.$"):
        inspect_file(path, "image")


def test_text_file_named_mp4_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "movie.mp4"
    path.write_text("definitely not a video\n" * 10)
    with pytest.raises(MediaRejected, match=r"^The file is not an MP4, MOV or WebM video\.$"):
        inspect_file(path, "video")


def test_png_declared_as_video_names_both(tmp_path: Path) -> None:
    path = _save(tmp_path / "clip.mp4", _gradient((32, 32)), "PNG")
    with pytest.raises(MediaRejected) as caught:
        inspect_file(path, "video")
    assert str(caught.value) == "The file is a PNG image, but it was uploaded with type 'video'."


def test_video_declared_as_image_names_both(videos: dict[str, Path]) -> None:
    with pytest.raises(MediaRejected) as caught:
        inspect_file(videos["mp4"], "image")
    assert "MP4 video" in str(caught.value)
    assert "type 'image'" in str(caught.value)


# --- videos ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "ext", "video_codec", "audio_codec"),
    [
        ("mp4", "video/mp4", "mp4", "h264", "aac"),
        ("silent", "video/mp4", "mp4", "h264", None),
        ("mov", "video/quicktime", "mov", "h264", "aac"),
        ("webm-vp9", "video/webm", "webm", "vp9", "opus"),
        ("webm-vp8", "video/webm", "webm", "vp8", "vorbis"),
    ],
)
def test_video_facts(
    videos: dict[str, Path],
    name: str,
    mime: str,
    ext: str,
    video_codec: str,
    audio_codec: str | None,
) -> None:
    facts = inspect_file(videos[name], "video")

    assert facts.kind == "video"
    assert facts.mime_type == mime
    assert facts.extension == ext
    assert (facts.width, facts.height) == (320, 240)
    assert facts.duration_seconds is not None
    assert facts.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert facts.has_audio is (audio_codec is not None)
    assert facts.video_codec == video_codec
    assert facts.audio_codec == audio_codec
    assert 1 <= len(facts.dominant_colors) <= 5
    assert all(HEX.match(c) for c in facts.dominant_colors)


def test_rotated_video_reports_display_dimensions(videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["rotated"], "video")
    assert (facts.width, facts.height) == (240, 320)


def test_file_with_mp4_header_and_garbage_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(_ftyp(b"isom", b"isom", b"mp41") + os.urandom(4096))
    with pytest.raises(MediaRejected, match=r"^The file is not a readable MP4, MOV or WebM video"):
        inspect_file(path, "video")


def test_truncated_mp4_is_rejected(tmp_path: Path, videos: dict[str, Path]) -> None:
    data = videos["mp4"].read_bytes()
    path = tmp_path / "cut.mp4"
    # ffmpeg writes the moov index last, so the first half holds no playable description.
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaRejected):
        inspect_file(path, "video")


def test_audio_only_mp4_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "voice.mp4"
    subprocess.run(
        [
            *[ffmpeg_exe(), "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=duration=0.5"],
            *["-c:a", "aac", "-f", "mp4", str(path)],
        ],
        check=True,
        timeout=60,
    )
    assert sniff(path.read_bytes()[:64]) == ("video", "video/mp4")
    with pytest.raises(MediaRejected, match=r"^The MP4 file has no video stream\.$"):
        inspect_file(path, "video")


def test_container_must_agree_with_the_sniffed_format(
    monkeypatch: pytest.MonkeyPatch, videos: dict[str, Path]
) -> None:
    real = probe(videos["mp4"])
    real["format"]["format_name"] = "matroska,webm"
    monkeypatch.setattr(media_inspect, "probe", lambda path, *, timeout: real)

    with pytest.raises(MediaRejected, match="starts like an MP4 video but its contents are not"):
        inspect_file(videos["mp4"], "video")


def test_video_without_duration_is_rejected(
    monkeypatch: pytest.MonkeyPatch, videos: dict[str, Path]
) -> None:
    real = probe(videos["mp4"])
    real["format"].pop("duration")
    for stream in real["streams"]:
        stream.pop("duration", None)
    monkeypatch.setattr(media_inspect, "probe", lambda path, *, timeout: real)

    with pytest.raises(MediaRejected, match="has no duration"):
        inspect_file(videos["mp4"], "video")


def test_awkward_file_names_reach_ffmpeg_as_plain_files(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    path = tmp_path / "-i concat:evil|x.mp4"
    shutil.copyfile(videos["silent"], path)
    facts = inspect_file(path, "video")
    assert (facts.width, facts.height) == (320, 240)
    assert make_thumbnail(path, facts, tmp_path / "t.jpg", max_side=64) == (64, 48)


# --- thumbnails -----------------------------------------------------------------------------


def test_image_thumbnail_is_a_bounded_jpeg(tmp_path: Path) -> None:
    path = _save(tmp_path / "big.webp", _gradient((1200, 800)), "WEBP")
    facts = inspect_file(path, "image")
    dest = tmp_path / "thumbs" / "big.jpg"

    size = make_thumbnail(path, facts, dest)

    assert size == (480, 320)
    assert dest.read_bytes()[:3] == b"\xff\xd8\xff"
    assert _decode_jpeg(dest.read_bytes()).size == (480, 320)
    assert [p.name for p in dest.parent.iterdir()] == ["big.jpg"]


def test_small_transparent_image_is_not_enlarged_and_gets_white_background(
    tmp_path: Path,
) -> None:
    im = Image.new("RGBA", (64, 32), (0, 0, 0, 0))
    im.paste((255, 0, 0, 255), (16, 8, 48, 24))
    path = _save(tmp_path / "logo.png", im, "PNG")
    facts = inspect_file(path, "image")

    size = make_thumbnail(path, facts, tmp_path / "logo.jpg")

    assert size == (64, 32)
    thumb = _decode_jpeg((tmp_path / "logo.jpg").read_bytes()).convert("RGB")
    assert all(c >= 245 for c in thumb.getpixel((1, 1)))  # type: ignore[union-attr]
    # Transparent pixels do not count towards the colours: red is the only one.
    assert _close_to(facts.dominant_colors[0], (255, 0, 0))


def test_video_thumbnail_is_a_bounded_jpeg(tmp_path: Path, videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["webm-vp9"], "video")
    dest = tmp_path / "v.jpg"

    size = make_thumbnail(videos["webm-vp9"], facts, dest, max_side=160)

    assert size == (160, 120)
    assert _decode_jpeg(dest.read_bytes()).size == (160, 120)


def test_very_short_video_thumbnail_uses_first_frame(
    tmp_path: Path, videos: dict[str, Path]
) -> None:
    facts = inspect_file(videos["short"], "video")
    assert facts.duration_seconds is not None
    assert facts.duration_seconds < 1.0

    size = make_thumbnail(videos["short"], facts, tmp_path / "s.jpg")

    assert size == (320, 240)
    assert _decode_jpeg((tmp_path / "s.jpg").read_bytes()).size == (320, 240)


def test_rotated_video_thumbnail_is_upright(tmp_path: Path, videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["rotated"], "video")
    assert make_thumbnail(videos["rotated"], facts, tmp_path / "r.jpg", max_side=160) == (120, 160)


# --- key frames -----------------------------------------------------------------------------


def test_key_frames_are_evenly_spaced_jpegs(videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["mp4"], "video")

    frames = extract_key_frames(videos["mp4"], facts, 4)
    small = extract_key_frames(videos["mp4"], facts, 2, max_side=100)

    assert len(frames) == 4
    assert all(f[:3] == b"\xff\xd8\xff" for f in frames)
    assert [_decode_jpeg(f).size for f in frames] == [(320, 240)] * 4
    # testsrc draws a moving counter, so distinct instants give distinct pictures.
    assert len(set(frames)) == 4
    assert [_decode_jpeg(f).size for f in small] == [(100, 75)] * 2


def test_key_frames_edge_cases(tmp_path: Path, videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["silent"], "video")
    assert extract_key_frames(videos["silent"], facts, 0) == []
    with pytest.raises(ValueError, match="count"):
        extract_key_frames(videos["silent"], facts, -1)
    image = _save(tmp_path / "a.png", _gradient((8, 8)), "PNG")
    with pytest.raises(ValueError, match="needs a video"):
        extract_key_frames(image, inspect_file(image, "image"), 3)


# --- dominant colours -----------------------------------------------------------------------


def test_solid_red_image_is_red_first(tmp_path: Path) -> None:
    path = _save(tmp_path / "red.jpg", Image.new("RGB", (200, 100), (255, 0, 0)), "JPEG")
    facts = inspect_file(path, "image")
    assert _close_to(facts.dominant_colors[0], (255, 0, 0), tolerance=4)


def test_dominant_colors_are_ranked_by_area(tmp_path: Path) -> None:
    im = Image.new("RGB", (100, 100), (0, 0, 255))
    im.paste((0, 255, 0), (0, 0, 100, 25))
    facts = inspect_file(_save(tmp_path / "two.png", im, "PNG"), "image")
    assert facts.dominant_colors == ("#0000ff", "#00ff00")


def test_video_dominant_color_comes_from_the_first_frame(videos: dict[str, Path]) -> None:
    facts = inspect_file(videos["red"], "video")
    assert _close_to(facts.dominant_colors[0], (255, 0, 0), tolerance=16)


def test_media_facts_is_frozen() -> None:
    facts = MediaFacts("image", "image/png", "png", 1, 1, None, None, None, None, ())
    with pytest.raises(AttributeError):
        facts.width = 2  # type: ignore[misc]


# --- the ffmpeg kit -------------------------------------------------------------------------


def test_missing_ffprobe_raises_tool_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, videos: dict[str, Path]
) -> None:
    monkeypatch.setenv("POWERPOST_FFPROBE", str(tmp_path / "no-such-ffprobe"))

    with pytest.raises(ToolMissing, match="apt-get install ffmpeg"):
        ffprobe_exe()
    with pytest.raises(ToolMissing):
        probe(videos["mp4"])
    # A server without ffprobe is a server fault, never blamed on the upload.
    with pytest.raises(ToolMissing):
        inspect_file(videos["mp4"], "video")


def test_missing_ffmpeg_on_path_raises_tool_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POWERPOST_FFMPEG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(kit_ffmpeg, "_bundled_ffmpeg", lambda: None)
    with pytest.raises(ToolMissing, match="ffmpeg was not found on PATH"):
        ffmpeg_exe()
    with pytest.raises(ToolMissing, match="ffprobe was not found on PATH"):
        ffprobe_exe()


def test_env_overrides_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which("ffprobe")
    assert real is not None
    monkeypatch.setenv("POWERPOST_FFPROBE", real)
    monkeypatch.setenv("POWERPOST_FFMPEG", real)
    assert ffprobe_exe() == real
    assert ffmpeg_exe() == real


def test_run_tool_passes_stdin_and_returns_stdout() -> None:
    script = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read()[::-1])"
    assert run_tool([sys.executable, "-c", script], timeout=30, stdin=b"abc") == b"cba"


def test_run_tool_gives_stdin_devnull_by_default() -> None:
    script = "import sys; sys.stdout.write(repr(sys.stdin.read()))"
    assert run_tool([sys.executable, "-c", script], timeout=30) == b"''"


def test_run_tool_failure_carries_stderr_tail() -> None:
    script = "import sys; sys.stderr.write('x' * 2000 + 'THE END'); sys.exit(3)"
    with pytest.raises(ToolFailed) as caught:
        run_tool([sys.executable, "-c", script], timeout=30)
    assert caught.value.returncode == 3
    assert caught.value.stderr.endswith("THE END")
    assert len(caught.value.stderr) == 500
    assert "exited with status 3" in str(caught.value)
    assert str(caught.value).endswith("THE END")


def test_run_tool_kills_on_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(ToolFailed, match=r"timed out after 0\.5 s") as caught:
        run_tool([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.5)
    assert caught.value.timed_out
    assert time.monotonic() - started < 10


def test_run_tool_missing_executable(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing):
        run_tool([str(tmp_path / "nothing-here")], timeout=5)


def test_probe_reads_streams_and_format(videos: dict[str, Path]) -> None:
    info = probe(videos["mp4"])
    kinds = sorted(s["codec_type"] for s in info["streams"])
    assert kinds == ["audio", "video"]
    assert "mp4" in info["format"]["format_name"].split(",")


def test_probe_failure_is_tool_failed(tmp_path: Path) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(b"\x00junk" * 100)
    with pytest.raises(ToolFailed):
        probe(path)
