"""What devices will not be able to use in lists about to be handed out (bundle warnings).

Read, not verified: the root's bundle builder (trust_registry/_root_domain.py,
``bundle_warnings``) and the command line warn with these lines before anything is
signed or installed (docs/operating.md, "Warnings").
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from protocol.encoding import format_time, parse_time, shift
from protocol.errors import InputError
from protocol.jws import parse_compact
from trust_registry._mirror import FUTURE_TOLERANCE


def list_warnings(
    *, trust_lists: Iterable[str] = (), status_lists: Iterable[str] = (), now: datetime
) -> list[str]:
    """Lists devices will not be able to use ``now``: already expired, or dated over an hour
    ahead (devices drop those, docs/verifying.md "Trust data"). Read, not verified."""
    out: list[str] = []
    ahead = shift(now, FUTURE_TOLERANCE)
    for what, tokens, issued_at, expires_at in (
        ("trust list", trust_lists, "issuedAt", "expiresAt"),
        ("status list", status_lists, "validFrom", "validUntil"),
    ):
        for token in tokens:
            try:
                body = parse_compact(token.strip()).payload_json()
                name = str(body.get("registry") or body.get("id"))[:160]
                issued = parse_time(body.get(issued_at), issued_at)
                expires = body.get(expires_at)
                expired = expires is not None and parse_time(expires, expires_at) < now
            except InputError as exc:
                out.append(f"a {what} is unreadable ({exc}): devices will drop it")
                continue
            if issued > ahead:
                out.append(
                    f"the {what} {name} is dated {format_time(issued)}, ahead of this clock: "
                    "devices will drop it (check its signer's clock)"
                )
            elif expired:
                out.append(
                    f"the {what} {name} has expired: devices cannot verify with it until it is renewed"
                )
    return out
