"""Offline caption generation: how long one request takes, all six platforms at once.

Runs every prompt of the quality corpus (tests/generation/corpus) through
`OfflineCaptionProvider.write_captions` for every platform and post type, `--rounds`
times, and prints the p50 and p95 milliseconds per request. Each round changes the
prompt slightly (a round number appended) so no cache (the phrase reader keeps one)
answers from an earlier round. Target: p50 < 50 ms.

    .venv/bin/python bench/offline_captions.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.generation.corpus.prompts import PROMPTS, request_for

from powerpost.generation.providers.offline import OfflineCaptionProvider


async def measure(rounds: int) -> list[float]:
    provider = OfflineCaptionProvider()
    timings: list[float] = []
    for round_number in range(rounds):
        for _kind, prompt in PROMPTS:
            request = request_for(f"{prompt} {round_number + 2} times")
            started = time.perf_counter()
            await provider.write_captions(request)
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    timings = asyncio.run(measure(max(1, args.rounds)))
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[18]
    print(f"offline captions, 6 platforms per request: {len(timings)} requests")
    print(f"p50 {p50:.2f} ms   p95 {p95:.2f} ms   (target: p50 < 50 ms)")


if __name__ == "__main__":
    main()
