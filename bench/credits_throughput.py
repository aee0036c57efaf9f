"""Authenticated GET /api/v1/account/credits throughput as a ratio of /healthz.

Starts `powerpost serve` (one process, SQLite, a fresh data dir), creates an account and a
key with the CLI, then loads both endpoints from `wrk` on loopback, alternating rounds so
that machine noise hits both alike. Target: ratio ≥ 0.5.

    .venv/bin/python bench/credits_throughput.py [--seconds 5] [--rounds 3] [--connections 32]

Needs `wrk` (Debian: apt-get install wrk). Rate limits are raised for the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POWERPOST = [sys.executable, "-m", "powerpost"]


def run_wrk(url: str, seconds: int, connections: int, key: str | None) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url]
    if key:
        command[1:1] = ["-H", f"x-api-key: {key}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not match or "Non-2xx" in output:
        raise SystemExit(f"wrk run was not clean:\n{output}")
    return float(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "POWERPOST_DATA_DIR": data,
            "POWERPOST_RATE_LIMIT_READ": "100000000/minute",
            "POWERPOST_LOG_LEVEL": "warning",
        }
        subprocess.run(
            [*POWERPOST, "accounts", "create", "--email", "bench@example.com", "--json"],
            env=env,
            check=True,
            capture_output=True,
        )
        created = subprocess.run(
            [
                *POWERPOST,
                "keys",
                "create",
                "--email",
                "bench@example.com",
                "--name",
                "bench",
                "--json",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = json.loads(created.stdout)["key"]
        server = subprocess.Popen(
            [*POWERPOST, "serve", "--port", str(args.port)], env=env, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{args.port}"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            assert httpx.get(
                f"{base}/api/v1/account/credits", headers={"x-api-key": key}
            ).json() == {"balance": 50}
            run_wrk(f"{base}/healthz", 1, args.connections, None)  # warm-up
            healthz, credits = [], []
            for _ in range(args.rounds):
                healthz.append(run_wrk(f"{base}/healthz", args.seconds, args.connections, None))
                credits.append(
                    run_wrk(f"{base}/api/v1/account/credits", args.seconds, args.connections, key)
                )
        finally:
            server.terminate()
            server.wait(timeout=10)
    h, c = statistics.median(healthz), statistics.median(credits)
    print(
        f"one server process, SQLite, wrk -c{args.connections}, {args.rounds} rounds of {args.seconds}s each"
    )
    print(
        f"baseline GET /healthz                      {h:9.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in healthz)})"
    )
    print(
        f"authenticated GET /api/v1/account/credits  {c:9.0f} req/s  (rounds: {', '.join(f'{x:.0f}' for x in credits)})"
    )
    print(
        f"ratio credits/healthz: {c / h:.2f}   target ≥ 0.5 -> {'met' if c / h >= 0.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
