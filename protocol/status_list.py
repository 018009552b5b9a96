"""W3C Bitstring Status List v1.0: the bitstring and the signed status list credential.

A lab keeps one list for both purposes: its ``statusPurpose`` is the array
``["revocation", "suspension"]`` (Bitstring Status List v1.0 §2.2,
"BitstringStatusListCredential", allows "one or more strings"). A Yilu certificate
owns one *slot* k of its lab's list: its revocation bit is index 2k and its suspension
bit index 2k + 1 (:func:`slot_indices`), a Yilu profile rule that lets anyone tell
revocation bits (even) from suspension bits (odd), which keeping revocations final
needs (docs/formats.md, "Status lists"). Index 0 is the most significant bit of the
first byte (§3.2, "Bitstring Encoding"). ``encodedList`` is multibase base64url (``u``
prefix) of the GZIP'd bits.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from protocol.encoding import (
    b64url_decode,
    b64url_encode,
    dumps_compact,
    format_time,
    parse_time,
)
from protocol.errors import InputTooLargeError, MalformedInputError
from protocol.jws import TYP_VC, Signer, sign_compact
from protocol.vocabulary import STATUS_LIST_TYPE, STATUS_PURPOSES, VC_CONTEXT

#: The spec's minimum list length (16 KiB of bits) for herd privacy.
MIN_BITS: Final = 131_072
#: Largest list accepted when decoding (bounded inflation): 2^24 bits, 2 MiB.
MAX_BITS: Final = 1 << 24
#: Certificates per list: one slot (two bits) each.
MIN_SLOTS: Final = MIN_BITS // 2


def slot_indices(slot: int) -> tuple[int, int]:
    """The (revocation, suspension) indices of a certificate's slot ``slot``: (2k, 2k + 1)."""
    if slot < 0:
        raise ValueError("a status list slot is not negative")
    return 2 * slot, 2 * slot + 1


#: Maps every non-zero byte to 1, so that ``find`` (memchr, in C) jumps from one set byte to
#: the next: finding the bits of a nearly empty list costs microseconds, and any list
#: costs time linear in its size.
_MARK_NONZERO: Final = bytes([0] + [1] * 255)


def set_bits(data: bytes) -> tuple[int, ...]:
    """The indices of the set bits of ``data`` (index 0 is the first byte's high bit)."""
    marks = data.translate(_MARK_NONZERO)
    out: list[int] = []
    pos = marks.find(1)
    while pos >= 0:
        byte, base = data[pos], pos * 8
        out.extend(base + i for i in range(8) if byte & (0x80 >> i))
        pos = marks.find(1, pos + 1)
    return tuple(out)


class Bitstring:
    """A mutable bitstring with the spec's bit order."""

    __slots__ = ("_bits",)

    def __init__(self, size_bits: int = MIN_BITS, data: bytes | None = None) -> None:
        if data is not None:
            self._bits = bytearray(data)
        else:
            if size_bits % 8 or size_bits <= 0:
                raise ValueError("a bitstring is a positive whole number of bytes")
            self._bits = bytearray(size_bits // 8)

    def __len__(self) -> int:
        return len(self._bits) * 8

    def get(self, index: int) -> bool:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return bool(self._bits[index >> 3] & (0x80 >> (index & 7)))

    def set(self, index: int, value: bool) -> None:
        if not 0 <= index < len(self):
            raise IndexError(index)
        mask = 0x80 >> (index & 7)
        if value:
            self._bits[index >> 3] |= mask
        else:
            self._bits[index >> 3] &= ~mask & 0xFF

    def set_indices(self) -> tuple[int, ...]:
        """The indices whose bit is set, in order (docs/formats.md, "Status lists")."""
        return set_bits(bytes(self._bits))

    def encode(self) -> str:
        """Multibase base64url of the GZIP'd bytes (mtime 0 so output is reproducible)."""
        return "u" + b64url_encode(gzip.compress(bytes(self._bits), compresslevel=9, mtime=0))

    @classmethod
    def decode(cls, encoded: str) -> Bitstring:
        """Inverse of :meth:`encode`, inflating at most :data:`MAX_BITS` bits."""
        if not encoded.startswith("u"):
            raise MalformedInputError("encodedList must be multibase base64url ('u' prefix)")
        packed = b64url_decode(encoded[1:])
        inflater = zlib.decompressobj(wbits=31)
        try:
            data = inflater.decompress(packed, MAX_BITS // 8)
        except zlib.error as exc:
            raise MalformedInputError("encodedList is not valid GZIP") from exc
        if inflater.unconsumed_tail:
            raise InputTooLargeError(f"status list longer than {MAX_BITS} bits")
        if not inflater.eof or not data:
            raise MalformedInputError("encodedList is truncated")
        if inflater.unused_data:
            raise MalformedInputError("encodedList has data after the GZIP member")
        return cls(data=data)


@dataclass(frozen=True, slots=True)
class StatusList:
    """A parsed (not yet trusted) ``BitstringStatusListCredential``."""

    url: str
    issuer: str
    #: One or more distinct purposes from ``STATUS_PURPOSES``, in the order written.
    purposes: tuple[str, ...]
    bits: Bitstring
    valid_from: datetime
    valid_until: datetime | None

    def revoked_indices(self) -> tuple[int, ...]:
        """The set bits at even indices (revocations), or none if the list is not for revocation."""
        if "revocation" not in self.purposes:
            return ()
        return tuple(i for i in self.bits.set_indices() if not i & 1)

    def suspended_indices(self) -> tuple[int, ...]:
        """The set bits at odd indices (suspensions), or none if the list is not for suspension."""
        if "suspension" not in self.purposes:
            return ()
        return tuple(i for i in self.bits.set_indices() if i & 1)

    def to_credential(self) -> dict[str, Any]:
        cred: dict[str, Any] = {
            "@context": [VC_CONTEXT],
            "id": self.url,
            "type": ["VerifiableCredential", STATUS_LIST_TYPE],
            "issuer": self.issuer,
            "validFrom": format_time(self.valid_from),
        }
        if self.valid_until is not None:
            cred["validUntil"] = format_time(self.valid_until)
        cred["credentialSubject"] = {
            "id": f"{self.url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": self.purposes[0] if len(self.purposes) == 1 else list(self.purposes),
            "encodedList": self.bits.encode(),
        }
        return cred

    def sign(self, signer: Signer, kid: str) -> str:
        """The list as a vc+jwt signed by the lab key."""
        return sign_compact(dumps_compact(self.to_credential()), signer, kid=kid, typ=TYP_VC)

    @classmethod
    def from_credential(cls, cred: dict[str, Any]) -> StatusList:
        types = cred.get("type")
        if not isinstance(types, list) or STATUS_LIST_TYPE not in types:
            raise MalformedInputError("not a BitstringStatusListCredential")
        subject = cred.get("credentialSubject")
        if not isinstance(subject, dict) or subject.get("type") != "BitstringStatusList":
            raise MalformedInputError("status list credentialSubject is not a BitstringStatusList")
        purposes = _purposes(subject.get("statusPurpose"))
        url, issuer, encoded = cred.get("id"), cred.get("issuer"), subject.get("encodedList")
        if not isinstance(url, str) or not isinstance(issuer, str) or not isinstance(encoded, str):
            raise MalformedInputError("status list lacks id, issuer or encodedList")
        until = cred.get("validUntil")
        return cls(
            url,
            issuer,
            purposes,
            Bitstring.decode(encoded),
            parse_time(cred.get("validFrom"), "statusList.validFrom"),
            None if until is None else parse_time(until, "statusList.validUntil"),
        )


class SparseBits(Bitstring):
    """A read-only bitstring kept as its set indices: what a verifier holds for each list,
    so that a lab with nothing revoked costs a few bytes rather than 16 KiB decoded."""

    __slots__ = ("_set", "_size")

    def __init__(self, size_bits: int, indices: Iterable[int] = ()) -> None:
        self._size = size_bits
        self._set = frozenset(indices)

    def __len__(self) -> int:
        return self._size

    def get(self, index: int) -> bool:
        if not 0 <= index < self._size:
            raise IndexError(index)
        return index in self._set

    def set(self, index: int, value: bool) -> None:
        raise TypeError("a verifier's copy of a status list is read-only")

    def set_indices(self) -> tuple[int, ...]:
        return tuple(sorted(self._set))

    def encode(self) -> str:
        full = Bitstring(self._size)
        for index in self._set:
            full.set(index, True)
        return full.encode()


def _purposes(value: Any) -> tuple[str, ...]:
    """``statusPurpose``: one known purpose, or a non-empty array of distinct known ones."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise MalformedInputError("statusPurpose is an empty array")
    for item in items:
        if item not in STATUS_PURPOSES:
            shown = item[:40] if isinstance(item, str) else type(item).__name__
            raise MalformedInputError(f"unsupported statusPurpose {shown!r}")
    if len(set(items)) != len(items):
        raise MalformedInputError("statusPurpose names a purpose twice")
    return tuple(str(p) for p in items)
