"""The checks a lab's signed status list passes before a registry mirrors it.

One function, used by the registry service and by the file-based registry the command
line still uses until it talks to the service (issue 7, §3: "a list not signed by a
current key of that lab is refused"), so that both apply exactly the same rules.
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


def check_status_lists(
    tokens: Iterable[str],
    *,
    registry_id: str,
    lab_of: Callable[[str], Lab | None],
    kept: Callable[[str, str], StatusList | None],
    now: datetime,
) -> Accepted:
    """The lists to keep, once every one passed (all or nothing; the first failure raises a
    one-line :class:`InputError`).

    Each list's issuer must be a lab of this registry (``lab_of``), its URL inside the
    lab's id, its signature by a key of that lab usable at the list's date; it must not be
    dated over :data:`FUTURE_TOLERANCE` ahead, nor be older than the copy already kept
    (``kept``), and may not clear a revocation bit (an even index) the kept copy has set:
    a revocation is final (clearing a suspension bit, an odd index, is an unsuspension).
    Of two lists of one URL in one batch, the newer is kept, whatever their order."""
    accepted: Accepted = {}
    for token in tokens:
        url, status_list = _check_one(token, registry_id=registry_id, lab_of=lab_of)
        if status_list.valid_from > shift(now, FUTURE_TOLERANCE):
            raise InputError(
                f"the status list {url} is dated {format_time(status_list.valid_from)}, in the future: "
                "check the lab's clock"
            )
        previous = kept(status_list.issuer, url)
        if previous is not None and previous.valid_from > status_list.valid_from:
            raise InputError(
                f"the status list {url} given is older ({format_time(status_list.valid_from)}) than "
                f"the copy already mirrored ({format_time(previous.valid_from)})"
            )
        if previous is not None:
            cleared = set(previous.revoked_indices()) - set(status_list.revoked_indices())
            if cleared:
                raise InputError(
                    f"the status list {url} clears revocations ({len(cleared)} of them, e.g. index "
                    f"{min(cleared)}): a revocation is final"
                )
        key = (status_list.issuer, url)
        other = accepted.get(key)
        if other is not None and other[0].valid_from == status_list.valid_from and other[1] != token.strip():
            raise InputError(f"two different status lists {url} issued at the same time were given")
        if other is None or other[0].valid_from < status_list.valid_from:
            accepted[key] = (status_list, token.strip())
    return accepted


def _check_one(
    token: str, *, registry_id: str, lab_of: Callable[[str], Lab | None]
) -> tuple[str, StatusList]:
    try:
        parsed = parse_compact(token.strip(), expected_typ=TYP_VC)
        status_list = StatusList.from_credential(parsed.payload_json())
    except InputError as exc:
        raise InputError(f"not a signed status list: {exc}") from exc
    what = f"status list {status_list.url[:120]}"
    lab = lab_of(status_list.issuer)
    if lab is None:
        raise InputError(
            f"{what}: its issuer {status_list.issuer[:120]} is not a lab of registry {registry_id}"
        )
    if not is_under(status_list.url, status_list.issuer):
        raise InputError(f"{what}: its URL is not inside its lab's id {status_list.issuer}")
    for record in lab.keys:
        if record.unusable_at(status_list.valid_from) is None and verify_raw(parsed, record.key):
            return status_list.url, status_list
    raise InputError(
        f"{what}: not signed by a key of {status_list.issuer} valid at its date "
        f"({format_time(status_list.valid_from)}); a list signed before its key was approved "
        "must be signed again (yilu lab republish --force) and pushed"
    )
