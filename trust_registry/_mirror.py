"""The checks a lab's signed status list passes before a registry mirrors it.

One function, used by the registry service when a lab pushes its lists and by the root
when it fetches them from a member (issue 7, §3: "a list not signed by a current key of
that lab is refused"), so that both apply exactly the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Final

from protocol.encoding import format_time, shift
from protocol.errors import InputError
from protocol.jws import TYP_VC, parse_compact, verify_raw
from protocol.lists import Lab
from protocol.names import is_under
from protocol.status_list import StatusList

#: A status list dated this far ahead of the registry's clock is refused (verifiers drop
#: lists dated after the bundle that carries them: docs/verifying.md, "Trust data").
FUTURE_TOLERANCE: Final = timedelta(hours=1)

#: (issuer, url) -> (the list, its compact JWS as given, stripped).
Accepted = dict[tuple[str, str], tuple[StatusList, str]]


def check_status_list(
    token: str,
    *,
    owner: str,
    lab_of: Callable[[str], Lab | None],
    kept: StatusList | None,
    now: datetime,
) -> tuple[StatusList, str]:
    """One lab's signed status list, once it passed every check; the list and its text.

    Its issuer must be a lab of ``owner`` (``lab_of``: a registry's own labs, or the labs
    of a member's verified trust list at the root), its URL inside the lab's id, its
    signature by a key of that lab usable at the list's date; it must not be dated over
    :data:`FUTURE_TOLERANCE` ahead, nor be older than ``kept`` (the copy already held), and
    may not clear a revocation bit (an even index) ``kept`` has set: a revocation is final
    (clearing a suspension bit, an odd index, is an unsuspension). One-line
    :class:`InputError` otherwise. The registry's mirror and the root's fetch both use it,
    so that both apply exactly the same rules."""
    status_list, text = _signed(token, owner=owner, lab_of=lab_of, now=now)
    _against(status_list, kept)
    return status_list, text


def _signed(
    token: str, *, owner: str, lab_of: Callable[[str], Lab | None], now: datetime
) -> tuple[StatusList, str]:
    """The list read and checked on its own: issuer, URL, signature, date."""
    text = token.strip()
    try:
        parsed = parse_compact(text, expected_typ=TYP_VC)
        status_list = StatusList.from_credential(parsed.payload_json())
    except InputError as exc:
        raise InputError(f"not a signed status list: {exc}") from exc
    url = status_list.url
    what = f"the status list {url[:120]}"
    lab = lab_of(status_list.issuer)
    if lab is None:
        raise InputError(f"{what}: its issuer {status_list.issuer[:120]} is not a lab of {owner}")
    if not is_under(url, status_list.issuer):
        raise InputError(f"{what}: its URL is not inside its lab's id {status_list.issuer}")
    if not any(k.unusable_at(status_list.valid_from) is None and verify_raw(parsed, k.key) for k in lab.keys):
        raise InputError(
            f"{what}: not signed by a key of {status_list.issuer} valid at its date "
            f"({format_time(status_list.valid_from)}); a list signed before its key was approved "
            "must be signed again (yilu lab republish --force) and pushed"
        )
    if status_list.valid_from > shift(now, FUTURE_TOLERANCE):
        raise InputError(
            f"{what} is dated {format_time(status_list.valid_from)}, in the future: check the lab's clock"
        )
    return status_list, text


def _against(status_list: StatusList, kept: StatusList | None) -> None:
    """Not older than the copy kept, and no revocation of it cleared."""
    if kept is None:
        return
    what = f"the status list {status_list.url[:120]}"
    if kept.valid_from > status_list.valid_from:
        raise InputError(
            f"{what} given is older ({format_time(status_list.valid_from)}) than "
            f"the copy already kept ({format_time(kept.valid_from)})"
        )
    cleared = set(kept.revoked_indices()) - set(status_list.revoked_indices())
    if cleared:
        raise InputError(
            f"{what} clears revocations ({len(cleared)} of them, e.g. index "
            f"{min(cleared)}): a revocation is final"
        )


def check_status_lists(
    tokens: Iterable[str],
    *,
    registry_id: str,
    lab_of: Callable[[str], Lab | None],
    kept: Callable[[str, str], StatusList | None],
    now: datetime,
) -> Accepted:
    """The lists to keep, once every one passed :func:`check_status_list` (all or nothing;
    the first failure raises). Of two lists of one URL in one batch, the newer is kept,
    whatever their order; two different lists of one URL and date are refused."""
    accepted: Accepted = {}
    for token in tokens:
        status_list, text = _checked(token, registry_id=registry_id, lab_of=lab_of, kept=kept, now=now)
        key = (status_list.issuer, status_list.url)
        other = accepted.get(key)
        if other is not None and other[0].valid_from == status_list.valid_from and other[1] != text:
            raise InputError(
                f"two different status lists {status_list.url} issued at the same time were given"
            )
        if other is None or other[0].valid_from < status_list.valid_from:
            accepted[key] = (status_list, text)
    return accepted


def _checked(
    token: str,
    *,
    registry_id: str,
    lab_of: Callable[[str], Lab | None],
    kept: Callable[[str, str], StatusList | None],
    now: datetime,
) -> tuple[StatusList, str]:
    """:func:`check_status_list` against the copy kept for the list's own URL (known only
    once the list is read)."""
    status_list, text = _signed(token, owner=f"registry {registry_id}", lab_of=lab_of, now=now)
    _against(status_list, kept(status_list.issuer, status_list.url))
    return status_list, text
