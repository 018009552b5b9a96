"""The root fetches what its members published, checks it and keeps the last good copy.

docs/architecture.md, "Root service" (Bundles). For each member in good standing the
root GETs, relative to the member's ``publicationUrl``:

* ``trust-list``   the signed trust list (``application/jwt``), with ``If-None-Match``
  (the ETag of the last answer);
* ``status-lists`` the index of its labs' signed status lists, as the registry service
  serves it: ``[{"url", "issuer", "validFrom", "href", "sha256"}, …]``; each list whose
  SHA-256 differs from the copy kept is then fetched from ``href``, a path relative to the
  publication URL (``status-lists/<name>``), so an unchanged list costs nothing.
 Every list is verified against the
member's keys as the *root's own data* records them before it is kept (the checks of
:mod:`trust_registry._root_rules`); a member serving garbage, another member's list, labs
outside its lab ids or a list signed by a key that is not its own gains nothing: the list
is dropped, the last good copy stays, and the reason is reported (and shown as a bundle
warning) until a fetch succeeds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final
from urllib.parse import urljoin

import httpx
from sqlmodel import Session, col, select

from protocol.errors import InputError
from protocol.jws import parse_compact
from protocol.lists import Lab, TrustList, status_at
from protocol.status_list import StatusList
from service import audit
from service.db import utc
from trust_registry._root_domain import member_object
from trust_registry._root_models import FetchedListRow, FetchReport, FetchStateRow, MemberRow
from trust_registry._root_rules import MAX_LIST_CHARS, check_status_list, check_trust_list

TRUST_LIST_PATH: Final = "trust-list"
STATUS_LISTS_PATH: Final = "status-lists"
TIMEOUT_SECONDS: Final = 30.0
#: More entries than this in a status-list index is not a registry's (18,000 labs fit).
MAX_STATUS_LISTS: Final = 200_000


@dataclass(frozen=True, slots=True)
class Fetched:
    """One HTTP answer: its status, body and ETag (304 has no body)."""

    status: int
    body: bytes
    etag: str | None = None


#: ``fetch(url, etag)``: GET ``url`` with ``If-None-Match: etag`` (if given).
Fetcher = Callable[[str, str | None], Fetched]


def http_fetcher(client: httpx.Client | None = None) -> Fetcher:
    """The real fetcher: httpx, no redirects to elsewhere followed, bounded time."""
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    def fetch(url: str, etag: str | None) -> Fetched:
        headers = {"If-None-Match": etag} if etag else {}
        answer = http.get(url, headers=headers)
        return Fetched(answer.status_code, answer.content, answer.headers.get("etag"))

    return fetch


def _url(base: str, path: str) -> str:
    return urljoin(base if base.endswith("/") else base + "/", path)


def _get(fetch: Fetcher, url: str, etag: str | None) -> Fetched:
    try:
        got = fetch(url, etag)
    except httpx.HTTPError as exc:
        raise InputError(f"GET {url} failed: {type(exc).__name__}") from None
    if got.status not in (200, 304):
        raise InputError(f"GET {url} answered {got.status}")
    return got


def _kept(session: Session, number: int, kind: str) -> dict[str, FetchedListRow]:
    rows = session.exec(
        select(FetchedListRow).where(col(FetchedListRow.member) == number, col(FetchedListRow.kind) == kind)
    )
    return {r.name: r for r in rows}


def _keep(
    session: Session,
    rows: dict[str, FetchedListRow],
    number: int,
    kind: str,
    name: str,
    version: int,
    token: str,
    now: datetime,
) -> bool:
    row = rows.get(name)
    if row is not None and row.token == token:
        return False
    if row is None:
        row = FetchedListRow(
            member=number, kind=kind, name=name, version=version, token=token, fetched_at=now
        )
        rows[name] = row
    else:
        row.version, row.token, row.fetched_at = version, token, now
    session.add(row)
    return True


@dataclass(frozen=True, slots=True)
class _Listed:
    """One entry of a registry's status-list index."""

    url: str
    href: str
    sha256: str


def _status_index(body: bytes) -> list[_Listed]:
    """The registry's ``GET status-lists`` index; ``href`` must stay under the publication
    URL (a relative path without ``..``), so a member cannot send the root elsewhere."""
    try:
        doc = json.loads(body)
    except ValueError:
        raise InputError("the status-list index is not JSON") from None
    shape = 'the status-list index is not [{"url", "href", "sha256", …}, …]'
    if not isinstance(doc, list) or len(doc) > MAX_STATUS_LISTS:
        raise InputError(shape)
    listed = []
    for entry in doc:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in ("url", "href", "sha256")
        ):
            raise InputError(shape)
        href = entry["href"]
        if not href or href.startswith("/") or ":" in href or ".." in href or any(c in href for c in "?#\\ "):
            raise InputError(
                f"the status-list index names {href[:80]!r}: not a path under the publication URL"
            )
        listed.append(_Listed(entry["url"], href, entry["sha256"]))
    return listed


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def fetch_member(*, session: Session, member: MemberRow, fetch: Fetcher, now: datetime) -> FetchReport:
    """Fetch, check and keep one member's lists; problems are recorded on the member."""
    assert member.number is not None
    record = member_object(session, member)
    state = session.get(FetchStateRow, member.number) or FetchStateRow(member=member.number, attempted_at=now)
    problems: list[str] = []
    kept = unchanged = 0
    trust_rows = _kept(session, member.number, "trust")
    old = trust_rows.get(member.registry_id)

    # The kept trust list is read only if something needs it (a new trust list to compare,
    # a changed status list to check): a member whose lists did not change costs no parse
    # of its thousands of labs.
    @functools.cache
    def old_list() -> TrustList | None:
        if old is None:
            return None
        return TrustList.from_json(parse_compact(old.token, max_chars=MAX_LIST_CHARS).payload_json())

    @functools.cache
    def old_labs() -> dict[str, Lab]:
        kept = old_list()
        return {} if kept is None else {lab.id: lab for lab in kept.labs}

    fresh: dict[str, Lab] | None = None  # the labs of a trust list kept by this fetch
    trust_url = _url(member.publication_url, TRUST_LIST_PATH)
    try:
        got = _get(fetch, trust_url, state.trust_etag if old is not None else None)
        if got.status == 304:
            unchanged += 1
        else:
            trust_list, text = check_trust_list(
                got.body.decode("ascii", "replace"), record, now=now, kept=old_list()
            )
            fresh = {lab.id: lab for lab in trust_list.labs}
            if _keep(
                session,
                trust_rows,
                member.number,
                "trust",
                member.registry_id,
                trust_list.sequence,
                text,
                now,
            ):
                kept += 1
            else:
                unchanged += 1
            state.trust_etag = got.etag
    except InputError as exc:
        problems.append(f"the trust list of member {member.registry_id} was dropped: {exc}")
    status_url = _url(member.publication_url, STATUS_LISTS_PATH)
    status_rows = _kept(session, member.number, "status")
    try:
        got = _get(fetch, status_url, state.status_etag if status_rows else None)
        if got.status == 304:
            unchanged += 1
        else:
            for listed in _status_index(got.body):
                row = status_rows.get(listed.url)
                if row is not None and _sha256(row.token) == listed.sha256:
                    unchanged += 1
                    continue
                try:
                    body = _get(fetch, _url(member.publication_url, listed.href), None).body
                    previous = (
                        None
                        if row is None
                        else StatusList.from_credential(parse_compact(row.token).payload_json())
                    )
                    status_list, token = check_status_list(
                        body.decode("ascii", "replace"),
                        old_labs() if fresh is None else fresh,
                        now=now,
                        kept=previous,
                    )
                    if status_list.url != listed.url:
                        raise InputError(
                            f"the index names {listed.url[:120]}, the list is {status_list.url[:120]}"
                        )
                except InputError as exc:
                    problems.append(f"a status list of member {member.registry_id} was dropped: {exc}")
                    continue
                version = int(status_list.valid_from.timestamp())
                if _keep(session, status_rows, member.number, "status", status_list.url, version, token, now):
                    kept += 1
                else:
                    unchanged += 1
            state.status_etag = got.etag
    except InputError as exc:
        problems.append(f"the status lists of member {member.registry_id} were dropped: {exc}")
    state.attempted_at, state.problems = now, problems
    session.add(state)
    session.flush()
    return FetchReport(kept=kept, unchanged=unchanged, dropped=problems)


def fetch_members(*, session: Session, fetch: Fetcher, actor: str, now: datetime) -> FetchReport:
    """Fetch from every member active now; one audit entry says what was kept and dropped."""
    total = FetchReport(kept=0, unchanged=0, dropped=[])
    for member in session.exec(select(MemberRow).order_by(col(MemberRow.number))).all():
        record = member_object(session, member)
        if status_at(record.status, now) != "active":
            continue
        one = fetch_member(session=session, member=member, fetch=fetch, now=now)
        total.kept += one.kept
        total.unchanged += one.unchanged
        total.dropped.extend(one.dropped)
    audit.record(
        session=session,
        actor=actor,
        action="members.fetch",
        subject="members",
        details={"kept": total.kept, "unchanged": total.unchanged, "dropped": total.dropped[:50]},
        at=utc(now),
    )
    return total
