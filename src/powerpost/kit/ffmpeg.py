"""Locate and run the ffmpeg/ffprobe command-line tools.

Everything here is synchronous and blocking; async callers wrap calls in
``asyncio.to_thread``. Tools are always run from an argument list, never through a shell.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = [
    "ToolFailed",
    "ToolMissing",
    "ffmpeg_exe",
    "ffprobe_exe",
    "input_url",
    "probe",
    "run_tool",
]

_INSTALL_HINT = (
    "install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) "
    "or set {env} to the full path of the {tool} executable"
)
_STDERR_TAIL = 500


class ToolMissing(RuntimeError):
    """ffmpeg or ffprobe is not installed (or the configured path is not executable)."""


class ToolFailed(RuntimeError):
    """The tool exited with a non-zero status or ran past its timeout."""

    def __init__(
        self,
        message: str,
        *,
        returncode: int | None = None,
        stderr: str = "",
        timed_out: bool = False,
    ) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr
        self.timed_out = timed_out


def _locate(tool: str, env: str) -> str:
    configured = os.environ.get(env, "").strip()
    if configured:
        found = shutil.which(configured)
        if found is None:
            hint = _INSTALL_HINT.format(env=env, tool=tool)
            raise ToolMissing(f"{env}={configured!r} is not an executable file; {hint}")
        return found
    found = shutil.which(tool)
    if found is None and tool == "ffmpeg":
        found = _bundled_ffmpeg()
    if found is None:
        hint = _INSTALL_HINT.format(env=env, tool=tool)
        raise ToolMissing(f"{tool} was not found on PATH; {hint}")
    return found


def _bundled_ffmpeg() -> str | None:
    # imageio-ffmpeg ships a static ffmpeg (but no ffprobe); it is only a fallback so that
    # thumbnails keep working on hosts where the system package is absent.
    try:
        import imageio_ffmpeg
    except ImportError:
        return None
    try:
        exe = str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError:
        return None
    return exe if Path(exe).is_file() else None


def ffmpeg_exe() -> str:
    """Path of the ffmpeg executable: ``POWERPOST_FFMPEG`` or ``ffmpeg`` on PATH."""
    return _locate("ffmpeg", "POWERPOST_FFMPEG")


def ffprobe_exe() -> str:
    """Path of the ffprobe executable: ``POWERPOST_FFPROBE`` or ``ffprobe`` on PATH."""
    return _locate("ffprobe", "POWERPOST_FFPROBE")


def _tail(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").strip()
    return text[-_STDERR_TAIL:]


def run_tool(args: list[str], *, timeout: float, stdin: bytes | None = None) -> bytes:
    """Run ``args`` (``args[0]`` is the executable) and return its stdout.

    The child is killed when ``timeout`` seconds pass. Raises `ToolMissing` when the
    executable cannot be started and `ToolFailed` on a non-zero exit or a timeout.
    """
    if not args:
        raise ValueError("run_tool needs at least the executable")
    name = Path(args[0]).name
    try:
        # A list of arguments and no shell: file names from users can never be interpreted.
        # stdin defaults to /dev/null because ffmpeg otherwise reads the terminal for keys.
        completed = subprocess.run(  # noqa: S603
            args,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolMissing(f"cannot start {args[0]!r}: {exc.strerror}") from exc
    except PermissionError as exc:
        raise ToolMissing(f"cannot execute {args[0]!r}: {exc.strerror}") from exc
    except subprocess.TimeoutExpired as exc:
        # subprocess.run has already killed and reaped the child at this point.
        stderr = _tail(exc.stderr or b"")
        raise ToolFailed(
            f"{name} timed out after {timeout:g} s" + (f": {stderr}" if stderr else ""),
            stderr=stderr,
            timed_out=True,
        ) from exc
    if completed.returncode != 0:
        stderr = _tail(completed.stderr)
        raise ToolFailed(
            f"{name} exited with status {completed.returncode}" + (f": {stderr}" if stderr else ""),
            returncode=completed.returncode,
            stderr=stderr,
        )
    return completed.stdout


def input_url(path: Path) -> str:
    """The ffmpeg input spelling of a local file.

    The explicit ``file:`` protocol and an absolute path stop a name such as ``-x`` or
    ``concat:a|b`` from being read as an option or another protocol.
    """
    return "file:" + str(path.resolve())


def probe(path: Path, *, timeout: float = 30.0) -> dict[str, Any]:
    """``ffprobe -show_format -show_streams`` of a local file, parsed from JSON."""
    out = run_tool(
        [
            ffprobe_exe(),
            "-v",
            "error",
            # Demuxers such as HLS or concat can open further URLs; only the file itself is allowed.
            "-protocol_whitelist",
            "file",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
            input_url(path),
        ],
        timeout=timeout,
    )
    try:
        parsed = json.loads(out)
    except ValueError as exc:
        raise ToolFailed(f"ffprobe printed output that is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ToolFailed("ffprobe printed JSON that is not an object")
    return parsed
