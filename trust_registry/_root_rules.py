"""Rules of the federation root that hold whatever stores its data: one source of truth
for the root service (and, until the command line talks to the services, the file-based
root behind it).

docs/formats.md, "Lab ids and name constraints": every lab id belongs to at most one
member registry, so the lab id patterns of two members may never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final

from protocol.encoding import format_time
from protocol.errors import InputError
from protocol.jws import parse_compact, verify_raw
from protocol.lists import TYP_TRUST_LIST, Lab, Member, TrustList
from protocol.names import NamePattern
from protocol.status_list import StatusList
from trust_registry import _mirror

#: Largest trust list read (a registry of 40,000 labs with two keys each fits).
MAX_LIST_CHARS: Final = 256 * 1024 * 1024


def check_patterns_disjoint(
    patterns: Iterable[NamePattern],
    others: Iterable[tuple[str, str, Iterable[NamePattern]]],
) -> None:
    """Raise :class:`InputError` if one of ``patterns`` overlaps a pattern of another member.

    ``others`` are ``(registry id, accreditation body, its patterns)`` of every other member
    (the member being changed left out)."""
    mine = list(patterns)
    if not mine:
        raise InputError("a member registry needs at least one lab id pattern, e.g. https://*.example.cn")
    for pattern in mine:
        same = [p for p in mine if p is not pattern and p.overlaps(pattern)]
        if same:
            raise InputError(f"lab id patterns {pattern.text} and {same[0].text} overlap: give each once")
    for other_id, body, theirs in others:
        for pattern in mine:
            clash = next((p for p in theirs if p.overlaps(pattern)), None)
            if clash is not None:
                raise InputError(
                    f"lab ids {pattern.text} overlap {clash.text} of {body} ({other_id}): "
                    "every lab id must belong to one registry"
                )


#: A list dated this far ahead of the checker's clock is refused (docs/verifying.md,
#: "Trust data": devices drop lists dated after the bundle that carries them).
FUTURE_TOLERANCE: Final = timedelta(hours=1)


def check_trust_list(
    token: str, member: Member, *, now: datetime, kept: TrustList | None = None
) -> tuple[TrustList, str]:
    """The trust list ``token`` if ``member`` may publish it, else one-line InputError.

    It must be a trust list of this member (not another member's), signed by a key of the
    member that was usable at its ``issuedAt``, list only lab ids within the member's
    patterns (the binding rule), not be dated in the future, and not be older than the
    copy ``kept`` (rollback). Returns it with its canonical text."""
    text = token.strip()
    try:
        parsed = parse_compact(text, expected_typ=TYP_TRUST_LIST, max_chars=MAX_LIST_CHARS)
        trust_list = TrustList.from_json(parsed.payload_json())
    except InputError as exc:
        raise InputError(f"not a trust list: {exc}") from None
    if trust_list.registry != member.id:
        raise InputError(f"it is the trust list of {trust_list.registry[:120]}, not of {member.id}")
    if not any(
        k.unusable_at(trust_list.issued_at) is None and verify_raw(parsed, k.key) for k in member.keys
    ):
        raise InputError(f"its signature is not by a key of {member.id} valid at its issuedAt")
    outside = next(
        (lab.id for lab in trust_list.labs if not any(p.matches(lab.id) for p in member.permitted_lab_ids)),
        None,
    )
    if outside is not None:
        raise InputError(f"it lists lab {outside[:120]}, outside the lab ids {member.id} may list")
    if trust_list.issued_at > now + FUTURE_TOLERANCE:
        raise InputError(f"it is dated {format_time(trust_list.issued_at)}, in the future")
    if kept is not None and trust_list.sequence < kept.sequence:
        raise InputError(f"its sequence {trust_list.sequence} is lower than the kept copy's {kept.sequence}")
    return trust_list, text


def check_status_list(
    token: str, labs: Mapping[str, Lab], *, now: datetime, kept: StatusList | None = None
) -> tuple[StatusList, str]:
    """The status list ``token`` if one of ``labs`` (the member's verified trust list's)
    signed it: exactly the checks a registry makes when its labs push their lists
    (:func:`trust_registry._mirror.check_status_list`)."""
    return _mirror.check_status_list(token, owner="this registry", lab_of=labs.get, kept=kept, now=now)
