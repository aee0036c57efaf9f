"""Judge uploaded media by its bytes: format, dimensions, duration, colours, thumbnails.

The declared content type and the file name are never trusted: the format comes from the
magic numbers (`sniff`), images are fully decoded with Pillow and videos are read with
ffprobe/ffmpeg. Everything here is synchronous; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import ExifTags, Image, ImageOps

from powerpost.kit.ffmpeg import ToolFailed, ffmpeg_exe, input_url, probe, run_tool

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MediaFacts",
    "MediaKind",
    "MediaRejected",
    "extract_key_frames",
    "inspect_file",
    "make_thumbnail",
    "sniff",
]

MediaKind = Literal["image", "video"]

MAX_IMAGE_PIXELS = 50_000_000
SNIFF_BYTES = 64
PROBE_TIMEOUT = 30.0
FRAME_TIMEOUT = 60.0
JPEG_QUALITY = 85

_LABELS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "video/mp4": "MP4",
    "video/quicktime": "MOV",
    "video/webm": "WebM",
}
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
# ffprobe's format_name is a comma list such as "mov,mp4,m4a,3gp,3g2,mj2" or "matroska,webm".
_CONTAINERS = {
    "video/mp4": frozenset({"mov", "mp4"}),
    "video/quicktime": frozenset({"mov", "mp4"}),
    "video/webm": frozenset({"webm"}),
}
_NOT_AN_IMAGE = "The file is not a JPEG, PNG or WebP image."
_NOT_A_VIDEO = "The file is not a readable MP4, MOV or WebM video."

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = 0x4282
_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"iso7",
        b"iso8",
        b"iso9",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"dash",
        b"mmp4",
        b"MSNV",
        b"XAVC",
        b"f4v ",
    }
)
_QUICKTIME_BRAND = b"qt  "
# ISO-BMFF is also the container of HEIF/AVIF stills, audio-only M4A and camera raw files;
# these brands must never pass as an MP4 video even when they list "isom" as compatible.
_FOREIGN_BRANDS = frozenset(
    {
        b"heic",
        b"heix",
        b"heim",
        b"heis",
        b"hevc",
        b"hevx",
        b"mif1",
        b"msf1",
        b"miaf",
        b"avif",
        b"avis",
        b"M4A ",
        b"M4B ",
        b"M4P ",
        b"crx ",
        b"jp2 ",
        b"jpx ",
    }
)


class MediaRejected(ValueError):
    """The bytes are not an acceptable media file; the message is safe to show a client."""


@dataclass(frozen=True)
class MediaFacts:
    kind: MediaKind
    mime_type: str
    extension: str
    width: int
    height: int
    duration_seconds: float | None
    has_audio: bool | None
    video_codec: str | None
    audio_codec: str | None
    dominant_colors: tuple[str, ...]


# --- sniffing -------------------------------------------------------------------------------


def sniff(head: bytes) -> tuple[MediaKind, str] | None:
    """The kind and MIME type that the first bytes of a file announce, or None."""
    head = head[:SNIFF_BYTES]
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith(_PNG_SIGNATURE):
        return "image", "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        mime = _sniff_ftyp(head)
        return ("video", mime) if mime else None
    if head.startswith(_EBML_MAGIC) and _ebml_doctype(head) == "webm":
        return "video", "video/webm"
    return None


def _sniff_ftyp(head: bytes) -> str | None:
    box_size = int.from_bytes(head[:4], "big")
    # The ftyp box holds at least the major brand and the minor version.
    if box_size < 16:
        return None
    major = head[8:12]
    brand_bytes = head[16 : min(box_size, len(head))]
    compatible = {brand_bytes[i : i + 4] for i in range(0, len(brand_bytes) - 3, 4)}
    if major in _FOREIGN_BRANDS:
        return None
    if major == _QUICKTIME_BRAND:
        return "video/quicktime"
    if major in _MP4_BRANDS:
        return "video/mp4"
    if compatible & _FOREIGN_BRANDS:
        return None
    if compatible & _MP4_BRANDS:
        return "video/mp4"
    if _QUICKTIME_BRAND in compatible:
        return "video/quicktime"
    return None


def _read_vint(buf: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at ``pos``: (value, length in bytes)."""
    if pos >= len(buf) or buf[pos] == 0:
        return None
    length = 9 - buf[pos].bit_length()
    if pos + length > len(buf):
        return None
    value = int.from_bytes(buf[pos : pos + length], "big")
    if not keep_marker:
        value &= (1 << (7 * length)) - 1
    return value, length


def _ebml_doctype(head: bytes) -> str | None:
    header_size = _read_vint(head, len(_EBML_MAGIC), keep_marker=False)
    if header_size is None:
        return None
    pos = len(_EBML_MAGIC) + header_size[1]
    end = min(pos + header_size[0], len(head))
    while pos < end:
        element_id = _read_vint(head, pos, keep_marker=True)
        if element_id is None:
            return None
        size = _read_vint(head, pos + element_id[1], keep_marker=False)
        if size is None:
            return None
        data = pos + element_id[1] + size[1]
        if element_id[0] == _EBML_DOCTYPE_ID:
            if data + size[0] > len(head):
                return None
            return head[data : data + size[0]].rstrip(b"\x00").decode("ascii", "replace")
        pos = data + size[0]
    return None


# --- inspection -----------------------------------------------------------------------------


def inspect_file(path: Path, declared: MediaKind) -> MediaFacts:
    """Decide what the file at ``path`` really is; raise `MediaRejected` if unacceptable.

    `ToolMissing` (no ffprobe/ffmpeg) propagates: that is a server fault, not the client's.
    """
    if path.stat().st_size == 0:
        raise MediaRejected("The file is empty.")
    with path.open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    sniffed = sniff(head)
    if sniffed is None:
        raise MediaRejected(
            _NOT_AN_IMAGE if declared == "image" else "The file is not an MP4, MOV or WebM video."
        )
    kind, mime = sniffed
    if kind != declared:
        raise MediaRejected(
            f"The file is {_article(_LABELS[mime])} {_LABELS[mime]} {kind}, "
            f"but it was uploaded with type '{declared}'."
        )
    if kind == "image":
        return _inspect_image(path, mime)
    return _inspect_video(path, mime)


def _article(word: str) -> str:
    return "an" if word[:1] in "AEIMO" else "a"


def _inspect_image(path: Path, mime: str) -> MediaFacts:
    label = _LABELS[mime]
    # Pillow is limited to the sniffed format so that no other decoder ever sees the bytes.
    # ImageFile.LOAD_TRUNCATED_IMAGES must stay False (Pillow's default) for .load() to
    # reject a cut-off file; nothing in this project turns it on.
    try:
        with Image.open(path, formats=[_PIL_FORMATS[mime]]) as im:
            width, height = im.size
            if width * height > MAX_IMAGE_PIXELS:
                raise MediaRejected(_too_many_pixels(width, height))
            im.load()
            orientation = _exif_orientation(im)
            colors = _dominant_colors(im)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # The warning only arrives as an exception when warnings are errors (tests).
        raise MediaRejected(_too_many_pixels(None, None)) from None
    except MediaRejected:
        raise
    except Exception as exc:
        # Hostile bytes make Pillow's decoders raise many exception types (OSError,
        # SyntaxError, struct.error, ValueError...); every one means "not a valid image".
        raise MediaRejected(
            f"The file is not a valid {label} image: it is truncated or corrupt."
        ) from exc
    if width <= 0 or height <= 0:
        raise MediaRejected(f"The file is not a valid {label} image: it has no pixels.")
    # Orientations 5-8 rotate by 90 degrees: the image is displayed with its sides swapped.
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return MediaFacts(
        kind="image",
        mime_type=mime,
        extension=_EXTENSIONS[mime],
        width=width,
        height=height,
        duration_seconds=None,
        has_audio=None,
        video_codec=None,
        audio_codec=None,
        dominant_colors=colors,
    )


def _too_many_pixels(width: int | None, height: int | None) -> str:
    limit = f"at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted"
    if width is None or height is None:
        return f"The image is too large: {limit}."
    return f"The image is {width}x{height} pixels: {limit}."


def _exif_orientation(im: Image.Image) -> int:
    try:
        value = im.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:
        # A damaged EXIF block does not make the picture unreadable; treat it as upright.
        return 1
    return value if isinstance(value, int) else 1


def _inspect_video(path: Path, mime: str) -> MediaFacts:
    label = _LABELS[mime]
    try:
        info = probe(path, timeout=PROBE_TIMEOUT)
    except ToolFailed as exc:
        raise MediaRejected(_NOT_A_VIDEO) from exc
    fmt = info.get("format")
    fmt = fmt if isinstance(fmt, dict) else {}
    raw_streams = info.get("streams")
    streams = (
        [s for s in raw_streams if isinstance(s, dict)] if isinstance(raw_streams, list) else []
    )

    containers = set(str(fmt.get("format_name", "")).split(","))
    if not containers & _CONTAINERS[mime]:
        raise MediaRejected(
            f"The file starts like {_article(label)} {label} video but its contents are not."
        )

    video = next((s for s in streams if _is_picture_stream(s)), None)
    if video is None:
        raise MediaRejected(f"The {label} file has no video stream.")
    width, height = _positive_int(video.get("width")), _positive_int(video.get("height"))
    if width is None or height is None:
        raise MediaRejected(f"The {label} video has no valid width and height.")
    # Phones store portrait video as landscape plus a rotation; ffmpeg applies it on decode.
    if _rotation(video) % 180 == 90:
        width, height = height, width
    duration = _positive_float(fmt.get("duration")) or _positive_float(video.get("duration"))
    if duration is None:
        raise MediaRejected(f"The {label} video has no duration.")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)

    try:
        first = _grab_frame(path, 0.0, 64)
    except ToolFailed as exc:
        raise MediaRejected(f"The {label} video could not be decoded.") from exc
    return MediaFacts(
        kind="video",
        mime_type=mime,
        extension=_EXTENSIONS[mime],
        width=width,
        height=height,
        duration_seconds=duration,
        has_audio=audio is not None,
        video_codec=_str_or_none(video.get("codec_name")),
        audio_codec=_str_or_none(audio.get("codec_name")) if audio is not None else None,
        dominant_colors=_dominant_colors(first),
    )


def _is_picture_stream(stream: dict[str, Any]) -> bool:
    if stream.get("codec_type") != "video":
        return False
    # Cover art in MP4/MOV shows up as a one-frame "video" stream flagged attached_pic.
    disposition = stream.get("disposition")
    return not (isinstance(disposition, dict) and disposition.get("attached_pic") == 1)


def _rotation(stream: dict[str, Any]) -> int:
    for side in stream.get("side_data_list") or []:
        if isinstance(side, dict) and "rotation" in side:
            try:
                return round(float(side["rotation"])) % 360
            except (TypeError, ValueError):
                return 0
    tags = stream.get("tags")
    if isinstance(tags, dict) and "rotate" in tags:
        try:
            return round(float(tags["rotate"])) % 360
        except (TypeError, ValueError):
            return 0
    return 0


def _positive_int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None


def _positive_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number > 0 else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# --- colours --------------------------------------------------------------------------------


def _dominant_colors(im: Image.Image, limit: int = 5) -> tuple[str, ...]:
    """Up to ``limit`` "#rrggbb" colours of ``im``, most pixels first."""
    has_alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    target = "RGBA" if has_alpha else "RGB"
    # Shrink before converting when the mode allows it: a 50 MP photo is never copied whole.
    if im.mode == target:
        small = im.resize((64, 64), Image.Resampling.BOX)
    else:
        small = im.convert(target).resize((64, 64), Image.Resampling.BOX)
    quantized = small.convert("RGB").quantize(colors=8, method=Image.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    indices = quantized.tobytes()
    if has_alpha:
        alpha = small.getchannel("A").tobytes()
        opaque = [i for i, a in zip(indices, alpha, strict=True) if a >= 128]
        # A fully transparent image still gets colours rather than none.
        indices = bytes(opaque) if opaque else indices
    by_hex: Counter[str] = Counter()
    # Median cut can emit the same colour twice; counting by hex merges those entries.
    for index, count in Counter(indices).items():
        r, g, b = palette[3 * index : 3 * index + 3]
        by_hex[f"#{r:02x}{g:02x}{b:02x}"] += count
    return tuple(color for color, _ in by_hex.most_common(limit))


# --- thumbnails and frames ------------------------------------------------------------------


def make_thumbnail(
    path: Path, facts: MediaFacts, dest: Path, *, max_side: int = 480
) -> tuple[int, int]:
    """Write a JPEG no larger than ``max_side`` on either side to ``dest``; return its size.

    Videos use the frame at about 10% of the duration (the first frame of clips shorter
    than a second), which skips fade-ins and black leaders.
    """
    if max_side < 1:
        raise ValueError("max_side must be positive")
    if facts.kind == "image":
        picture = _load_upright_image(path, facts, max_side)
    else:
        duration = facts.duration_seconds or 0.0
        at = duration * 0.1 if duration >= 1.0 else 0.0
        picture = _grab_frame(path, at, max_side)
    picture.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    _write_jpeg_atomically(picture, dest)
    return picture.size


def extract_key_frames(
    path: Path, facts: MediaFacts, count: int, *, max_side: int = 768
) -> list[bytes]:
    """``count`` JPEG frames spread evenly over a video (the middle of equal slices)."""
    if facts.kind != "video":
        raise ValueError("extract_key_frames needs a video")
    if count < 0 or max_side < 1:
        raise ValueError("count must be >= 0 and max_side positive")
    duration = facts.duration_seconds or 0.0
    frames: list[bytes] = []
    for i in range(count):
        frame = _grab_frame(path, duration * (i + 0.5) / count, max_side)
        frame.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        frames.append(_jpeg_bytes(frame))
    return frames


def _load_upright_image(path: Path, facts: MediaFacts, max_side: int) -> Image.Image:
    with Image.open(path, formats=[_PIL_FORMATS[facts.mime_type]]) as im:
        if im.format == "JPEG":
            # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster for large photos.
            im.draft("RGB", (max_side, max_side))
        upright = ImageOps.exif_transpose(im)
    return _flatten_to_rgb(upright)


def _flatten_to_rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        # JPEG has no alpha; white reads better behind logos and stickers than black.
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return im if im.mode == "RGB" else im.convert("RGB")


def _grab_frame(path: Path, at: float, max_side: int) -> Image.Image:
    """One decoded RGB frame at ``at`` seconds, scaled down to fit ``max_side``."""
    image = _grab_frame_once(path, at, max_side)
    if image is None and at > 0:
        # Seeking near the end of a file with a short last GOP can yield no frame.
        image = _grab_frame_once(path, 0.0, max_side)
    if image is None:
        raise ToolFailed("ffmpeg decoded no video frame")
    return image


def _grab_frame_once(path: Path, at: float, max_side: int) -> Image.Image | None:
    fit = (
        f"scale='min(iw,{max_side})':'min(ih,{max_side})'"
        ":force_original_aspect_ratio=decrease:flags=area"
    )
    raw = run_tool(
        [
            ffmpeg_exe(),
            "-nostdin",
            "-hide_banner",
            "-v",
            "error",
            "-protocol_whitelist",
            "file",
            "-ss",
            f"{at:.3f}",
            "-i",
            input_url(path),
            "-map",
            "0:V:0",
            "-frames:v",
            "1",
            "-vf",
            fit,
            "-pix_fmt",
            "rgb24",
            "-f",
            "image2pipe",
            "-c:v",
            "ppm",
            "-",
        ],
        timeout=FRAME_TIMEOUT,
    )
    if not raw:
        return None
    try:
        with Image.open(io.BytesIO(raw), formats=["PPM"]) as im:
            im.load()
            return im.convert("RGB")
    except Exception as exc:
        raise ToolFailed(f"ffmpeg produced an unreadable frame: {exc}") from exc


def _jpeg_bytes(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    _flatten_to_rgb(im).save(buf, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buf.getvalue()


def _write_jpeg_atomically(im: Image.Image, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Readers of dest (the media route, a CDN sync) never see a half-written JPEG.
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_jpeg_bytes(im))
        os.replace(tmp_name, dest)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
