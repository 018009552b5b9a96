"""The ``YL1:`` QR envelope: exact round trips, QR size, bounded inflation, hostile input."""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable

import pytest
import qrcode
import qrcode.constants
from jwcrypto import jwk as jwc_jwk
from jwcrypto import jws as jwc_jws

from issuer.qr import make_qr
from protocol import yl1
from protocol.encoding import B45_ALPHABET, b45_decode, b45_encode, b64url_decode
from protocol.errors import (
    InputError,
    InputTooLargeError,
    MalformedInputError,
    SignatureError,
    UnsupportedFormatError,
    YiluError,
)
from protocol.jws import TYP_VC, assemble_compact, parse_compact, verify_signature
from protocol.keys import SigningKey
from protocol.reasons import ReasonCode

REPORTS = ("green-tea-3", "green-tea-8", "green-tea-8-fail", "green-tea-40", "steel-rebar-6")
QR_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
FAKE_SIG = bytes(range(1, 65))


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def deflate(data: bytes, zdict: bytes | None = None) -> bytes:
    comp = (
        zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict=zdict)
        if zdict is not None
        else zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY)
    )
    return comp.compress(data) + comp.flush()


def craft(
    body: bytes,
    header_len: int,
    signature: bytes = FAKE_SIG,
    *,
    version: int = 1,
    length_bytes: bytes | None = None,
) -> str:
    """Hand-made YL1 text, following the documented layout, for hostile cases."""
    head = length_bytes if length_bytes is not None else varint(header_len)
    return yl1.PREFIX + b45_encode(bytes([version]) + head + deflate(body, yl1.dictionary(1)) + signature)


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
@pytest.mark.parametrize("name", REPORTS)
def test_round_trip_is_exact(reference_vc: Callable[..., str], name: str, alg: str) -> None:
    token = reference_vc(name, alg)
    text = yl1.encode(token)
    assert text.startswith("YL1:")
    assert set(text) <= QR_ALNUM
    assert set(text[4:]) <= set(B45_ALPHABET)
    assert yl1.decode(text) == token
    assert len(text) < len(token) / 2.5  # it is actually compact


def test_wire_layout(reference_vc: Callable[..., str]) -> None:
    """version byte || varint(len(header)) || rawDEFLATE[dict v1](header||payload) || signature."""
    token = reference_vc("green-tea-8")
    header, payload, signature = (b64url_decode(p) for p in token.split("."))
    raw = b45_decode(yl1.encode(token)[4:])
    assert raw[0] == 1 == yl1.CURRENT_VERSION
    assert len(header) < 128
    assert raw[1] == len(header)
    inflater = zlib.decompressobj(-15, zdict=yl1.dictionary(1))
    assert inflater.decompress(raw[2:]) == header + payload
    assert inflater.eof
    assert inflater.unused_data == signature
    assert len(signature) == 64


def test_varint_of_long_header_round_trips(ed_key: SigningKey) -> None:
    """A header of 128+ bytes needs a two-byte varint."""
    from protocol.jws import sign_compact

    token = sign_compact(b'{"a":1}', ed_key, kid="k" * 200, typ=TYP_VC)
    assert len(b64url_decode(token.split(".")[0])) >= 128
    text = yl1.encode(token)
    raw = b45_decode(text[4:])
    assert raw[1] & 0x80
    assert yl1.decode(text) == token


def test_dictionary_makes_it_smaller(reference_vc: Callable[..., str]) -> None:
    token = reference_vc("green-tea-8")
    header, payload, signature = (b64url_decode(p) for p in token.split("."))
    plain = deflate(header + payload)
    with_dict = b45_decode(yl1.encode(token)[4:])
    assert len(with_dict) < 0.8 * (len(plain) + len(signature) + 2)


def test_encode_rejects_non_jws_and_unknown_versions(reference_vc: Callable[..., str]) -> None:
    token = reference_vc("green-tea-3")
    for bad in ("a.b", token + ".x", "", token.replace(".", "", 1)):
        with pytest.raises(MalformedInputError):
            yl1.encode(bad)
    with pytest.raises(MalformedInputError):
        yl1.encode(token + "=")
    for version in (0, 2, 255):
        with pytest.raises(UnsupportedFormatError):
            yl1.encode(token, version=version)


# ---------------------------------------------------------------- QR size (acceptance)

QR_BUDGET = {"green-tea-8": 18, "steel-rebar-6": 19, "green-tea-40": 22}


@pytest.mark.parametrize(("name", "max_version"), sorted(QR_BUDGET.items()))
def test_qr_version_budget(reference_vc: Callable[..., str], name: str, max_version: int) -> None:
    """The code Yilu prints (issuer.make_qr) fits the budget; so does another encoder's, as a
    printer might use. Only upper bounds: an encoder that packs better passes too."""
    text = yl1.encode(reference_vc(name))  # EdDSA, the default
    code = make_qr(text)
    assert code.mode == "alphanumeric"
    assert code.error == "M"
    assert code.version <= max_version
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    assert qr.version <= max_version


def test_rebuilt_jws_verifies_with_jwcrypto(reference_vc: Callable[..., str], ed_key: SigningKey) -> None:
    text = yl1.encode(reference_vc("steel-rebar-6"))
    rebuilt = yl1.decode(text)
    obj = jwc_jws.JWS()
    obj.deserialize(rebuilt)
    obj.verify(jwc_jwk.JWK(**dict(ed_key.public.jwk)))
    verify_signature(parse_compact(rebuilt, expected_typ=TYP_VC), ed_key.public)


# ---------------------------------------------------------------- malformed and hostile input


@pytest.mark.parametrize(
    "text",
    ["", "YL2:BB8", "yl1:BB8", "HC1:6BF", "eyJhbGciOiJFZERTQSJ9.e30.AAAA", " YL1:BB8", "YL1BB8", "BB8"],
)
def test_no_prefix_is_unsupported(text: str) -> None:
    with pytest.raises(UnsupportedFormatError) as info:
        yl1.decode(text)
    assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT


def _deflate_end(text: str) -> int:
    """Bytes of the raw YL1 data up to the end of the DEFLATE stream."""
    raw = b45_decode(text[4:])
    inflater = zlib.decompressobj(-15, zdict=yl1.dictionary(1))
    inflater.decompress(raw[2:])
    return len(raw) - len(inflater.unused_data)


def test_truncated_text_is_malformed(reference_vc: Callable[..., str]) -> None:
    text = yl1.encode(reference_vc("green-tea-8"))
    end = _deflate_end(text)
    cuts = sorted({4, 5, 6, 7, 8, 9, 10, 30, 31, 32, 100, 333, 500, 501, 502, *range(4, len(text), 17)})
    checked = 0
    for cut in cuts:
        short = text[:cut]
        try:
            if len(b45_decode(short[4:])) > end:
                continue  # the cut falls inside the signature: see the next test
        except MalformedInputError:
            pass
        with pytest.raises(MalformedInputError) as info:
            yl1.decode(short)
        assert info.value.code == ReasonCode.MALFORMED
        checked += 1
    assert checked > 30


def _cuts_inside_signature(text: str) -> list[int]:
    """Cut points that keep whole base45 triples and lose 2, 20 and 40 of the 64 signature bytes."""
    raw_len = len(b45_decode(text[4:]))
    assert raw_len - _deflate_end(text) == 64
    cuts = []
    for lost in (2, 20, 40):
        kept = raw_len - lost
        kept -= kept % 2
        cuts.append(4 + kept // 2 * 3)
    return cuts


def test_truncated_inside_signature_is_malformed(reference_vc: Callable[..., str]) -> None:
    text = yl1.encode(reference_vc("green-tea-8"))
    for cut in _cuts_inside_signature(text):
        with pytest.raises(MalformedInputError) as info:
            yl1.decode(text[:cut])
        assert info.value.code == ReasonCode.MALFORMED


def test_truncated_signature_never_verifies(reference_vc: Callable[..., str], ed_key: SigningKey) -> None:
    token = reference_vc("green-tea-8")
    text = yl1.encode(token)
    for cut in _cuts_inside_signature(text):
        try:
            rebuilt = yl1.decode(text[:cut])
        except MalformedInputError:
            continue
        assert rebuilt.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]
        with pytest.raises(SignatureError) as info:
            verify_signature(parse_compact(rebuilt), ed_key.public)
        assert info.value.codes == (ReasonCode.SIGNATURE_INVALID,)


@pytest.mark.parametrize(
    "garbage",
    [
        "YL1:",
        "YL1:0",
        "YL1:00",
        "YL1:000",
        "YL1:abc",
        "YL1:BB8_",
        "YL1:ÄÖÜ",
        "YL1:崂山绿茶崂山",
        "YL1:\x00\x00\x00",
        "YL1:" + b45_encode(b"\x01" + bytes(range(200))),
        "YL1:" + b45_encode(b"\x01\x0f" + b"\xff" * 300),
        "YL1:GGW" + "0" * 30,
        "YL1:" + b45_encode(b"\x01\x10" + b"not deflate at all, sorry" * 4),
        "YL1:" + b45_encode(b"\x01\x10"),
        "YL1:" + b45_encode(b"\x01"),
    ],
)
def test_garbage_is_malformed(garbage: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        yl1.decode(garbage)
    assert info.value.code == ReasonCode.MALFORMED


@pytest.mark.parametrize("version", [0, 2, 7, 0x80, 255])
def test_unknown_dictionary_version(reference_vc: Callable[..., str], version: int) -> None:
    raw = bytearray(b45_decode(yl1.encode(reference_vc("green-tea-3"))[4:]))
    raw[0] = version
    with pytest.raises(UnsupportedFormatError) as info:
        yl1.decode("YL1:" + b45_encode(bytes(raw)))
    assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT


def test_deflate_bomb_longer_than_a_qr_code() -> None:
    zeros = bytes(10 * 1024 * 1024)
    text = craft(b'{"alg":"EdDSA"}' + zeros, 15)
    assert len(text) > 4296
    with pytest.raises(InputTooLargeError) as info:
        yl1.decode(text)
    assert info.value.code == ReasonCode.MALFORMED


@pytest.mark.parametrize("size", [100 * 1024, 1024 * 1024, 2_800_000])
def test_deflate_bomb_that_fits_in_a_qr_code(size: int) -> None:
    text = craft(b'{"alg":"EdDSA"}' + bytes(size), 15)
    assert len(text) <= 4296
    with pytest.raises(InputTooLargeError) as info:
        yl1.decode(text)
    assert info.value.code == ReasonCode.MALFORMED


def test_documented_limits() -> None:
    """The code's limits are the ones docs/formats.md ("YL1 envelope", steps 1, 6, 7) states;
    the tests below use the documented numbers."""
    assert (yl1.MAX_TEXT_CHARS, yl1.MAX_INFLATED, yl1.SIGNATURE_BYTES) == (4296, 65_536, 64)


def test_inflation_limit_boundary() -> None:
    header = b'{"alg":"EdDSA"}'
    at_limit = craft(header + b"A" * (65_536 - len(header)), len(header))
    assert yl1.decode(at_limit).count(".") == 2
    with pytest.raises(InputTooLargeError) as info:
        yl1.decode(craft(header + b"A" * (65_536 - len(header) + 1), len(header)))
    assert info.value.code == ReasonCode.MALFORMED


def _filler(chars: int) -> str:
    """``chars`` base45 characters of a YL1 v1 body whose DEFLATE data is invalid."""
    text = b45_encode(b"\x01\x0f" + b"\xff" * (chars // 3 * 2))
    return text[:chars] if chars % 3 != 1 else text[: chars - 1] + "0"


def test_text_length_limit() -> None:
    longest = "YL1:" + _filler(4292)  # 4,296 characters: not rejected for length
    assert len(longest) == 4296
    with pytest.raises(MalformedInputError) as info:
        yl1.decode(longest)
    assert not isinstance(info.value, InputTooLargeError)
    assert info.value.code == ReasonCode.MALFORMED
    for extra in (1, 2, 100):
        with pytest.raises(InputTooLargeError) as info:
            yl1.decode("YL1:" + _filler(4296 + extra))
        assert info.value.code == ReasonCode.MALFORMED
    with pytest.raises(InputTooLargeError) as info:
        yl1.decode("YL1:" + "0" * 10_000_000)
    assert info.value.code == ReasonCode.MALFORMED


def test_text_longer_than_a_version_40_qr_is_too_large() -> None:
    with pytest.raises(InputTooLargeError) as info:
        yl1.decode("YL1:" + _filler(4293))  # 4,297 characters
    assert info.value.code == ReasonCode.MALFORMED


@pytest.mark.parametrize(
    ("body", "header_len"),
    [
        (b'{"alg":"EdDSA"}{}', 0),
        (b'{"alg":"EdDSA"}{}', 17),  # all header, no payload
        (b'{"alg":"EdDSA"}{}', 18),
        (b'{"alg":"EdDSA"}{}', 1000),
        (b'{"alg":"EdDSA"}{}', (1 << 21) - 1),
    ],
)
def test_header_length_out_of_range(body: bytes, header_len: int) -> None:
    with pytest.raises(MalformedInputError) as info:
        yl1.decode(craft(body, header_len))
    assert info.value.code == ReasonCode.MALFORMED


@pytest.mark.parametrize("length_bytes", [b"\x80\x80\x80\x01", b"\xff\xff\xff\xff", b"\x80\x80\x80"])
def test_header_length_varint_too_long(length_bytes: bytes) -> None:
    with pytest.raises(MalformedInputError) as info:
        yl1.decode(craft(b'{"alg":"EdDSA"}{}', 0, length_bytes=length_bytes))
    assert info.value.code == ReasonCode.MALFORMED


def test_crafted_text_with_valid_layout_decodes() -> None:
    """Control for the hostile cases above: the same construction, well-formed, decodes."""
    header, payload = b'{"alg":"EdDSA"}', b"{}"
    rebuilt = yl1.decode(craft(header + payload, len(header)))
    assert rebuilt.split(".") == ["eyJhbGciOiJFZERTQSJ9", "e30", rebuilt.split(".")[2]]
    assert b64url_decode(rebuilt.split(".")[2]) == FAKE_SIG


def test_missing_signature() -> None:
    with pytest.raises(MalformedInputError, match="signature") as info:
        yl1.decode(craft(b'{"alg":"EdDSA"}{}', 15, signature=b""))
    assert info.value.code == ReasonCode.MALFORMED


def test_signature_must_be_64_bytes() -> None:
    assert yl1.decode(craft(b'{"alg":"EdDSA"}{}', 15, signature=b"\x01" * 64))
    for size in (1, 63, 65, 132):
        with pytest.raises(MalformedInputError, match="signature") as info:
            yl1.decode(craft(b'{"alg":"EdDSA"}{}', 15, signature=b"\x01" * size))
        assert info.value.code == ReasonCode.MALFORMED


def test_deflate_with_wrong_dictionary_is_rejected_or_differs() -> None:
    header, payload = b'{"alg":"EdDSA","kid":"x","typ":"vc+jwt"}', b'{"@context":["https://www.w3.org/"]}'
    raw = (
        b"\x01"
        + varint(len(header))
        + deflate(header + payload, b"another dictionary " * 20 + header + payload)
        + FAKE_SIG
    )
    try:
        rebuilt = yl1.decode("YL1:" + b45_encode(raw))
    except MalformedInputError:
        return
    assert b64url_decode(rebuilt.split(".")[1]) != payload


def test_pinned_dictionary_hash_is_enforced(monkeypatch: pytest.MonkeyPatch) -> None:
    yl1.dictionary.cache_clear()
    monkeypatch.setitem(yl1.DICTIONARIES, 1, "0" * 64)
    try:
        with pytest.raises(UnsupportedFormatError) as info:
            yl1.dictionary(1)
        assert info.value.code == ReasonCode.UNSUPPORTED_FORMAT
    finally:
        monkeypatch.undo()
        yl1.dictionary.cache_clear()
    assert yl1.dictionary(1)


# ---------------------------------------------------------------- fuzz


def _mutate(rng: random.Random, text: str) -> str:
    body = list(text[4:])
    kind = rng.randrange(8)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(body)) if body else 0
        if kind == 0 and body:
            body[pos] = rng.choice(B45_ALPHABET)
        elif kind == 1 and body:
            del body[pos]
        elif kind == 2:
            body.insert(pos, rng.choice(B45_ALPHABET))
        elif kind == 3 and body:
            body[pos] = chr(rng.randrange(0x20, 0x3000))
        elif kind == 4:
            body = body[: rng.randrange(len(body) + 1)]
        elif kind == 5 and body:
            a, b = sorted(rng.sample(range(len(body)), 2))
            body[a], body[b] = body[b], body[a]
        elif kind == 6:
            start = rng.randrange(len(body) + 1)
            body[start:start] = body[start : start + rng.randint(1, 40)]
        else:
            prefix = rng.choice(["YL1:", "YL1:", "YL1:", "YL0:", "YL1", ""])
            return prefix + "".join(body)
    return "YL1:" + "".join(body)


def test_fuzz_mutations_raise_only_yilu_errors(reference_vc: Callable[..., str], ed_key: SigningKey) -> None:
    token = reference_vc("green-tea-8")
    text = yl1.encode(token)
    rng = random.Random(20261127)
    outcomes: dict[str, int] = {}
    for _ in range(2000):
        mutated = _mutate(rng, text)
        try:
            rebuilt = yl1.decode(mutated)
        except YiluError as exc:
            outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
            continue
        outcomes["decoded"] = outcomes.get("decoded", 0) + 1
        if rebuilt == token:
            continue  # e.g. changed unused bits after the end of the DEFLATE stream
        # whatever decodes differently must never pass as the lab's certificate
        try:
            verify_signature(parse_compact(rebuilt), ed_key.public)
        except YiluError:
            continue
        pytest.fail(f"mutated text verified: {mutated!r}")
    assert outcomes.get("MalformedInputError", 0) > 1000
    assert sum(outcomes.values()) == 2000


@pytest.mark.parametrize(
    ("header", "payload", "signature", "error"),
    [
        (b"", b"{}", FAKE_SIG, MalformedInputError),
        (b'{"alg":"EdDSA"}', b"", FAKE_SIG, MalformedInputError),
        (b'{"alg":"EdDSA"}', b"{}", FAKE_SIG[:63], MalformedInputError),
        (b'{"alg":"EdDSA"}', b"{}", FAKE_SIG + b"\x00", MalformedInputError),
        # 70,000 bytes that compress into a 235-character code, which every verifier refuses.
        (b'{"alg":"EdDSA"}', b"a" * 70_000, FAKE_SIG, InputTooLargeError),
    ],
    ids=["no header", "no payload", "63-byte signature", "65-byte signature", "inflates beyond 64 KiB"],
)
def test_encode_refuses_what_decode_would_refuse(
    header: bytes, payload: bytes, signature: bytes, error: type[InputError]
) -> None:
    with pytest.raises(error) as info:
        yl1.encode(assemble_compact(header, payload, signature))
    assert info.value.code == ReasonCode.MALFORMED
    # The largest header and payload a code carries still round-trips.
    largest = assemble_compact(b'{"alg":"EdDSA"}', b"a" * (yl1.MAX_INFLATED - 15), FAKE_SIG)
    assert yl1.decode(yl1.encode(largest)) == largest
