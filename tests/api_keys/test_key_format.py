from __future__ import annotations

import re
import zlib

import pytest

from powerpost.kit.security import (
    BASE62,
    KEY_LENGTH,
    KeyHasher,
    base62,
    display_parts,
    generate_key,
    is_well_formed,
)


def test_alphabet_order_is_digits_upper_lower() -> None:
    assert BASE62 == "0123456789" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "abcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("mode", ["live", "test"])
def test_generated_keys_have_the_public_shape(mode: str) -> None:
    key = generate_key(mode)
    assert len(key) == KEY_LENGTH == 49
    assert re.fullmatch(r"pp_(live|test)_sk_[0-9A-Za-z]{38}", key)
    assert key.startswith(f"pp_{mode}_sk_")
    assert is_well_formed(key)


def test_checksum_is_crc32_in_base62_msd_first_padded() -> None:
    key = generate_key("live")
    body, tail = key[:-6], key[-6:]
    value = zlib.crc32(body.encode("ascii"))
    # decode the tail independently of the implementation
    decoded = 0
    for ch in tail:
        decoded = decoded * 62 + BASE62.index(ch)
    assert decoded == value
    assert base62(0, 6) == "000000"
    assert base62(61, 6) == "00000z"
    assert base62(62, 6) == "000010"


def test_typos_truncations_and_garbage_fail_the_checksum() -> None:
    key = generate_key("live")
    flipped = key[:20] + ("A" if key[20] != "A" else "B") + key[21:]
    assert not is_well_formed(flipped)
    assert not is_well_formed(key[:-1])
    assert not is_well_formed(key + "x")
    assert not is_well_formed("pp_prod_sk_" + key[11:])
    assert not is_well_formed("")
    assert not is_well_formed("pp_live_sk_" + "0" * 38)


def test_random_parts_are_unique() -> None:
    assert len({generate_key("live") for _ in range(2000)}) == 2000


def test_display_keeps_prefix_four_random_and_last_four() -> None:
    key = generate_key("test")
    display = display_parts(key)
    assert display.prefix == key[:15]
    assert display.suffix == key[-4:]
    assert display.render() == f"{key[:15]}…{key[-4:]}"


def test_digest_depends_on_pepper_version() -> None:
    hasher = KeyHasher({1: b"a" * 32, 2: b"b" * 32})
    key = generate_key("live")
    assert hasher.current_version == 2
    assert hasher.digest(key) == hasher.digest(key, 2)
    assert hasher.digest(key, 1) != hasher.digest(key, 2)
    assert len(hasher.digest(key)) == 32
    assert hasher.older_versions() == [1]
