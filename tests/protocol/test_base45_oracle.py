"""The fast base45 decoder against the pure-Python one it replaced (kept here as the oracle).

Same bytes for every valid text, and for every invalid one the same error message: the
first problem a left-to-right decoder meets (impossible length, a character outside the
alphabet, a triple above 65535, a final pair above 255).
"""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from propkit import char_mutations, fast
from protocol.encoding import B45_ALPHABET, b45_decode, b45_encode
from protocol.errors import MalformedInputError

_VALUE = {c: i for i, c in enumerate(B45_ALPHABET)}
_PAIR = {a + b: _VALUE[a] + 45 * _VALUE[b] for a in B45_ALPHABET for b in B45_ALPHABET}


def oracle_b45_decode(text: str) -> bytes:
    """The decoder of protocol/encoding.py before the fast path (commit 9eeefa2)."""
    if len(text) % 3 == 1:
        raise MalformedInputError("base45 text has an impossible length")
    out = bytearray()
    full = len(text) - len(text) % 3
    try:
        for i in range(0, full, 3):
            n = _PAIR[text[i : i + 2]] + 2025 * _VALUE[text[i + 2]]
            if n > 0xFFFF:
                raise MalformedInputError("base45 triple out of range")
            out += n.to_bytes(2, "big")
        if full != len(text):
            n = _PAIR[text[full:]]
            if n > 0xFF:
                raise MalformedInputError("base45 pair out of range")
            out.append(n)
    except KeyError as exc:
        raise MalformedInputError("character outside the base45 alphabet") from exc
    return bytes(out)


def outcome(decode: object, text: str) -> tuple[str, bytes | str]:
    assert callable(decode)
    try:
        return "ok", decode(text)
    except MalformedInputError as exc:
        return "error", str(exc)


def same(text: str) -> None:
    assert outcome(b45_decode, text) == outcome(oracle_b45_decode, text), repr(text)


@fast(400)
@given(st.binary(max_size=600))
def test_valid_texts_decode_alike(data: bytes) -> None:
    text = b45_encode(data)
    assert b45_decode(text) == data
    same(text)


@fast(600)
@given(st.data())
def test_mutated_texts_fail_alike(data: st.DataObject) -> None:
    text = b45_encode(data.draw(st.binary(max_size=80)))
    same(data.draw(char_mutations(text, B45_ALPHABET + "a?\x00é")))


@fast(600)
@given(st.text(alphabet=st.sampled_from(B45_ALPHABET + ":*a\x00\u00ff\u4e2d\ud800"), max_size=40))
@example("GGW")  # 65536: the first triple out of range
@example("GGWa")  # out of range before a bad character: the range error wins
@example("aGGGGW")  # a bad character first
@example("FGW")  # 65535, the largest triple
@example("U5")  # 256: a final pair out of range
@example("00" * 2 + "é")
def test_arbitrary_texts_alike(text: str) -> None:
    same(text)
