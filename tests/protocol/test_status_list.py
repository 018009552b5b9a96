"""W3C Bitstring Status List v1.0: bit order, encoding, bounded inflation, the credential."""

from __future__ import annotations

import copy
import gzip
import random
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from protocol.encoding import b64url_decode, b64url_encode
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.jws import TYP_VC, parse_compact, verify_signature
from protocol.keys import SigningKey
from protocol.status_list import MAX_BITS, MIN_BITS, MIN_SLOTS, Bitstring, StatusList, slot_indices

URL = "https://qdtc.example.cn/status"
BOTH = ("revocation", "suspension")
ISSUER = "https://qdtc.example.cn"
#: The documented sizes (docs/formats.md, "Status lists"), written out: the code's own
#: constants are only compared with them (test_sizes), so a changed limit fails here.
LIST_BITS = 131_072
LIST_SLOTS = 65_536
MAX_LIST_BITS = 1 << 24  # 2 MiB of bits when decoding
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def raw_bytes(bits: Bitstring) -> bytes:
    encoded = bits.encode()
    assert encoded[0] == "u"
    return gzip.decompress(b64url_decode(encoded[1:]))


# ---------------------------------------------------------------- bit order


@pytest.mark.parametrize(
    ("indices", "expected"),
    [
        ([], b"\x00\x00"),
        ([0], b"\x80\x00"),
        ([1], b"\x40\x00"),
        ([7], b"\x01\x00"),
        ([8], b"\x00\x80"),
        ([15], b"\x00\x01"),
        ([0, 7, 8, 15], b"\x81\x81"),
        ([2, 3, 12], b"\x30\x08"),
    ],
)
def test_index_zero_is_the_most_significant_bit_of_byte_zero(indices: list[int], expected: bytes) -> None:
    bits = Bitstring(16)
    for i in indices:
        bits.set(i, True)
    assert raw_bytes(bits) == expected
    for i in range(16):
        assert bits.get(i) is (i in indices)
    parsed = Bitstring(data=expected)
    assert [i for i in range(16) if parsed.get(i)] == indices


def test_set_false_clears_only_that_bit() -> None:
    bits = Bitstring(data=b"\xff\xff")
    bits.set(3, False)
    bits.set(14, False)
    assert raw_bytes(bits) == b"\xef\xfd"
    bits.set(3, False)  # idempotent
    bits.set(3, True)
    assert raw_bytes(bits) == b"\xff\xfd"


def test_sizes() -> None:
    assert (MIN_BITS, MIN_SLOTS, MAX_BITS) == (LIST_BITS, LIST_SLOTS, MAX_LIST_BITS)
    assert len(Bitstring()) == LIST_BITS
    assert len(raw_bytes(Bitstring())) == 16 * 1024
    assert len(Bitstring(8)) == 8
    assert len(Bitstring(data=b"\x00" * 3)) == 24
    for bad in (0, -8, 12, 131_071):
        with pytest.raises(ValueError, match="bitstring"):
            Bitstring(bad)


def test_index_bounds() -> None:
    bits = Bitstring(16)
    for bad in (-1, 16, 10**9):
        with pytest.raises(IndexError):
            bits.get(bad)
        with pytest.raises(IndexError):
            bits.set(bad, True)


# ---------------------------------------------------------------- encodedList


def test_encode_decode_round_trip() -> None:
    rng = random.Random(131072)
    bits = Bitstring()
    chosen = set(rng.sample(range(LIST_BITS), 500)) | {0, LIST_BITS - 1}
    for i in chosen:
        bits.set(i, True)
    encoded = bits.encode()
    again = Bitstring.decode(encoded)
    assert len(again) == LIST_BITS
    assert {i for i in range(LIST_BITS) if again.get(i)} == chosen
    assert again.encode() == encoded


def test_encoding_is_reproducible_and_small() -> None:
    a, b = Bitstring(), Bitstring()
    a.set(42, True)
    b.set(42, True)
    assert a.encode() == b.encode()  # gzip mtime fixed
    assert len(Bitstring().encode()) < 200  # an empty 16 KiB list compresses to almost nothing
    assert a.encode() != Bitstring().encode()


def test_spec_example_encoded_list() -> None:
    """The empty 16 KiB list from the Bitstring Status List v1.0 examples."""
    bits = Bitstring.decode("uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA")
    assert len(bits) == LIST_BITS
    assert not any(bits.get(i) for i in range(0, LIST_BITS, 97))


def test_decode_accepts_other_gzip_writers() -> None:
    data = b"\x00\x10" + b"\x00" * 100
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    encoded = "u" + b64url_encode(comp.compress(data) + comp.flush())
    assert Bitstring.decode(encoded).get(11)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # no multibase prefix
        "zH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # base58btc prefix
        "UH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # base64url-pad prefix
        "mH4sIAAAAAAAAA+3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # base64 prefix
    ],
)
def test_multibase_u_prefix_required(bad: str) -> None:
    with pytest.raises(MalformedInputError):
        Bitstring.decode(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "u",
        "u!!!!",
        "uH4sIAAAAAAAAA+3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # '+' is not base64url
        "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA==",
        "u" + b64url_encode(b"not gzip at all"),
        "u" + b64url_encode(zlib.compress(b"\x00" * 100)),  # zlib, not gzip
        "u" + b64url_encode(gzip.compress(b"\x00" * 1000, mtime=0)[:20]),  # truncated
        "u" + b64url_encode(gzip.compress(b"", mtime=0)),  # empty list
    ],
)
def test_garbage_is_malformed(bad: str) -> None:
    with pytest.raises(MalformedInputError):
        Bitstring.decode(bad)


def test_corrupted_gzip_crc_is_rejected() -> None:
    packed = bytearray(gzip.compress(b"\x01" * 64, mtime=0))
    packed[-6] ^= 0xFF  # inside the CRC-32 trailer
    with pytest.raises(MalformedInputError):
        Bitstring.decode("u" + b64url_encode(bytes(packed)))


def test_gzip_bomb_is_bounded() -> None:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    packed = b"".join(comp.compress(chunk) for _ in range(64)) + comp.flush()  # 64 MiB of zeros
    assert len(packed) < 100_000
    with pytest.raises(InputTooLargeError):
        Bitstring.decode("u" + b64url_encode(packed))


def test_largest_list_accepted_and_one_byte_more_refused() -> None:
    limit = 2 * 1024 * 1024  # bytes: 2^24 bits
    assert len(Bitstring.decode("u" + b64url_encode(gzip.compress(bytes(limit), mtime=0)))) == MAX_LIST_BITS
    with pytest.raises(InputTooLargeError):
        Bitstring.decode("u" + b64url_encode(gzip.compress(bytes(limit + 1), mtime=0)))


# ---------------------------------------------------------------- the status list credential


def make_list(
    purposes: tuple[str, ...] = BOTH, until: datetime | None = T0 + timedelta(days=1)
) -> StatusList:
    bits = Bitstring()
    for i in (3, 48212, 48213, LIST_BITS - 1):
        bits.set(i, True)
    return StatusList(URL, ISSUER, purposes, bits, T0, until)


def same(a: StatusList, b: StatusList) -> bool:
    return (a.url, a.issuer, a.purposes, a.valid_from, a.valid_until, a.bits.encode()) == (
        b.url,
        b.issuer,
        b.purposes,
        b.valid_from,
        b.valid_until,
        b.bits.encode(),
    )


@pytest.mark.parametrize(
    ("purposes", "written"),
    [
        (BOTH, ["revocation", "suspension"]),
        (("suspension", "revocation"), ["suspension", "revocation"]),
        (("revocation",), "revocation"),
        (("suspension",), "suspension"),
    ],
)
@pytest.mark.parametrize("until", [T0 + timedelta(days=1), None])
def test_credential_round_trip(purposes: tuple[str, ...], written: Any, until: datetime | None) -> None:
    """One purpose is written as a string, several as an array (Bitstring Status List §2.2)."""
    status = make_list(purposes, until)
    cred = status.to_credential()
    assert cred["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert cred["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert cred["id"] == URL
    assert cred["issuer"] == ISSUER
    assert cred["validFrom"] == "2026-11-27T09:00:00Z"
    assert ("validUntil" in cred) is (until is not None)
    subject = cred["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == written
    assert subject["id"] == f"{URL}#list"
    assert subject["encodedList"].startswith("u")
    again = StatusList.from_credential(cred)
    assert same(again, status)
    assert again.bits.get(48213)
    assert not again.bits.get(48214)


def test_slot_indices_pair_an_even_revocation_with_the_next_suspension() -> None:
    assert slot_indices(0) == (0, 1)
    assert slot_indices(2121) == (4242, 4243)
    assert slot_indices(65_535) == (131_070, 131_071)  # the last of LIST_SLOTS
    with pytest.raises(ValueError, match="not negative"):
        slot_indices(-1)


def test_revoked_are_the_even_set_bits_and_suspended_the_odd() -> None:
    status = make_list()  # bits 3, 48212, 48213, LIST_BITS - 1
    assert status.revoked_indices() == (48212,)
    assert status.suspended_indices() == (3, 48213, LIST_BITS - 1)


def test_a_list_without_a_purpose_has_no_bits_of_it() -> None:
    assert make_list(("suspension",)).revoked_indices() == ()
    assert make_list(("revocation",)).suspended_indices() == ()
    assert make_list(("revocation",)).revoked_indices() == (48212,)


def test_signed_status_list_verifies() -> None:
    key = SigningKey.generate()
    token = make_list().sign(key, key.public.kid)
    parsed = parse_compact(token, expected_typ=TYP_VC)
    verify_signature(parsed, key.public)
    assert same(StatusList.from_credential(parsed.payload_json()), make_list())


def _broken(change: Any) -> dict[str, Any]:
    cred = copy.deepcopy(make_list().to_credential())
    change(cred)
    return cred


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", "message"),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", "Revocation"),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", None),
        lambda c: c["credentialSubject"].pop("statusPurpose"),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", []),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", ["revocation", "message"]),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", ["revocation", "revocation"]),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", ["suspension", None]),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", [["revocation"]]),
        lambda c: c["credentialSubject"].__setitem__("statusPurpose", {"revocation": True}),
        lambda c: c["credentialSubject"].__setitem__("type", "StatusList2021"),
        lambda c: c.__setitem__("credentialSubject", [c["credentialSubject"]]),
        lambda c: c.pop("credentialSubject"),
        lambda c: c.__setitem__("type", ["VerifiableCredential", "StatusList2021Credential"]),
        lambda c: c.__setitem__("type", "BitstringStatusListCredential"),
        lambda c: c.pop("type"),
        lambda c: c.pop("id"),
        lambda c: c.__setitem__("issuer", {"id": ISSUER}),
        lambda c: c["credentialSubject"].pop("encodedList"),
        lambda c: c["credentialSubject"].__setitem__("encodedList", "H4sI"),
        lambda c: c.pop("validFrom"),
        lambda c: c.__setitem__("validFrom", "2026-11-27T09:00:00"),
        lambda c: c.__setitem__("validUntil", "tomorrow"),
    ],
)
def test_from_credential_rejects(change: Any) -> None:
    with pytest.raises(MalformedInputError):
        StatusList.from_credential(_broken(change))


def test_data_after_the_gzip_member_is_refused() -> None:
    packed = gzip.compress(bytes(16), mtime=0) + b"trailing"
    with pytest.raises(MalformedInputError, match="after the GZIP"):
        Bitstring.decode("u" + b64url_encode(packed))
