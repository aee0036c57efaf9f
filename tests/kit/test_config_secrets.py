"""The generated pepper and secret: created once, complete or not at all, shared by every
process that starts at the same time on a fresh data directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from powerpost.config import load_settings

LOAD = (
    "import sys; from powerpost.config import load_settings; "
    "s = load_settings({'POWERPOST_DATA_DIR': sys.argv[1]}); "
    "print(s.key_peppers[1].hex(), s.secret_key.hex())"
)


def test_processes_starting_together_agree_on_one_pepper_and_secret(tmp_path: Path) -> None:
    for attempt in range(5):
        data_dir = tmp_path / f"fresh-{attempt}"
        starts = [
            subprocess.Popen(
                [sys.executable, "-c", LOAD, str(data_dir)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        results = [process.communicate(timeout=60) for process in starts]
        assert all(p.returncode == 0 for p in starts), [err for _, err in results]
        assert len({out for out, _ in results}) == 1  # every process read the same secrets
        pepper, secret = results[0][0].split()
        assert (data_dir / "key_pepper").read_text() == pepper
        assert (data_dir / "secret_key").read_text() == secret
        assert (data_dir / "key_pepper").stat().st_mode & 0o777 == 0o600
        assert sorted(p.name for p in data_dir.iterdir()) == ["key_pepper", "secret_key"]


def test_a_generated_secret_is_kept_across_starts(tmp_path: Path) -> None:
    first = load_settings({"POWERPOST_DATA_DIR": str(tmp_path)})
    again = load_settings({"POWERPOST_DATA_DIR": str(tmp_path)})
    assert len(first.secret_key) == 32
    assert (first.key_peppers, first.secret_key) == (again.key_peppers, again.secret_key)
