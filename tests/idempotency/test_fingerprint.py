"""The streamed fingerprint: chunking never changes it, the multipart boundary never counts,
and everything else that makes a request different does."""

from __future__ import annotations

import random

import pytest

from powerpost.idempotency.fingerprint import Fingerprint, _BoundaryMask


def _digest(body: bytes, chunks: list[int], **overrides: object) -> str:
    params: dict[str, object] = {
        "method": "POST",
        "path": "/api/v1/media/upload",
        "query": b"",
        "workspace_id": "w",
        "content_type": "application/json",
        **overrides,
    }
    fingerprint = Fingerprint(**params)  # type: ignore[arg-type]
    start = 0
    for size in chunks:
        fingerprint.feed(body[start : start + size])
        start += size
    fingerprint.feed(body[start:])
    fingerprint.complete = True
    return fingerprint.hexdigest()


@pytest.mark.parametrize("seed", range(20))
def test_masking_is_the_same_however_the_stream_is_cut(seed: int) -> None:
    rng = random.Random(seed)
    boundary = b"abcab" * rng.randint(1, 3)
    body = b"".join(rng.choice([boundary, b"a", b"b", b"c", b"xyz", b"abca"]) for _ in range(200))
    mask = _BoundaryMask(boundary)
    out = bytearray()
    position = 0
    while position < len(body):
        step = rng.randint(0, 9)
        out += mask.feed(body[position : position + step])
        position += step
    out += mask.finish()
    assert bytes(out) == body.replace(boundary, b"\x00boundary\x00")


def test_the_boundary_does_not_count_but_the_content_does() -> None:
    def form(boundary: str, content: bytes) -> tuple[bytes, str]:
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\n'
            ).encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return body, f"multipart/form-data; boundary={boundary}"

    one, type_one = form("1111aaaa", b"same bytes")
    two, type_two = form("2222bbbbcccc", b"same bytes")
    three, type_three = form("2222bbbbcccc", b"other bytes")
    assert _digest(one, [7, 3], content_type=type_one) == _digest(two, [1], content_type=type_two)
    assert _digest(two, [], content_type=type_two) != _digest(three, [], content_type=type_three)


def test_every_part_of_the_request_counts() -> None:
    body = b'{"prompt": "x"}'
    base = _digest(body, [3])
    assert _digest(body, [1, 1, 1]) == base
    assert _digest(body, [3], headers=[(b"user-agent", b"other")]) == base
    for change in (
        {"method": "PUT"},
        {"path": "/api/v1/other"},
        {"query": b"dry_run=true"},
        {"workspace_id": "v"},
        {"content_type": "text/plain"},
        {"headers": [(b"x-test-scenario", b"timeout")]},
    ):
        assert _digest(body, [3], **change) != base, change
    assert _digest(b'{"prompt": "y"}', [3]) != base


def test_an_unfinished_body_has_no_fingerprint() -> None:
    fingerprint = Fingerprint(
        method="POST", path="/", query=b"", workspace_id=None, content_type=""
    )
    fingerprint.feed(b"part")
    with pytest.raises(RuntimeError):
        fingerprint.hexdigest()
