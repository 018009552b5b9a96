"""Lab ids and the name constraints that bind each lab to exactly one registry.

The federation list gives every member registry the patterns of the lab ids it may
list (``permittedLabIds``), as X.509 name constraints bound what a sub-CA may certify
and TUF delegations bound the paths a role may sign (docs/formats.md, "Lab ids and
name constraints"). Everything is compared as plain strings in one canonical form, so
that an implementation in any language gets the same answer.

A **lab id** is ``https://`` + a lowercase DNS host of two or more labels, the last
starting with a letter (a domain name, not an IP address), + an optional
path of ``/``-separated segments of ``[A-Za-z0-9._~-]`` (no empty, ``.`` or ``..``
segment, no trailing ``/``), at most :data:`MAX_ID_CHARS` characters. No port, user,
query, fragment or percent-encoding.

A **pattern** is the same with an optional ``*.`` before the host: ``https://*.cnas.cn``
matches every proper subdomain of ``cnas.cn`` (not ``cnas.cn`` itself), ``https://cnas.cn``
exactly that host. A pattern with a path matches ids whose path is that path or lies
below it, segment-wise: ``https://reg.kz/labs`` matches ``https://reg.kz/labs/l1`` but
not ``https://reg.kz/labs2``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final, Generic, TypeGuard, TypeVar

from protocol.errors import MalformedInputError

MAX_ID_CHARS: Final = 200
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
#: The last label starts with a letter, as every top-level domain does: no IP addresses.
_TOP: Final = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST: Final = rf"(?:{_LABEL}\.)+{_TOP}"
_SEGMENT: Final = r"(?!\.\.?(?:/|$))[A-Za-z0-9._~-]+"
_LAB_ID: Final = re.compile(rf"https://(?P<host>{_HOST})(?P<path>(?:/{_SEGMENT})*)", re.ASCII)
_PATTERN: Final = re.compile(rf"https://(?P<wild>\*\.)?(?P<host>{_HOST})(?P<path>(?:/{_SEGMENT})*)", re.ASCII)


def is_lab_id(value: object) -> TypeGuard[str]:
    """True if ``value`` is a lab id in canonical form (see the module docstring)."""
    # DNS bounds a host to 253 characters; MAX_ID_CHARS already keeps it to 192.
    return isinstance(value, str) and len(value) <= MAX_ID_CHARS and _LAB_ID.fullmatch(value) is not None


def check_lab_id(value: object, what: str = "lab id") -> str:
    """Return ``value`` if it is a canonical lab id, else raise a one-line MalformedInputError.

    Registry and federation ids follow the same syntax (``what`` names which is checked)."""
    if not is_lab_id(value):
        shown = value[:80] if isinstance(value, str) else value
        raise MalformedInputError(
            f"{what} {shown!r} is not valid: use https:// + a lowercase host + an optional path, "
            "no port, query, fragment or trailing '/' (e.g. https://qdtc.example.cn)"
        )
    return value


def _host(lab_id: str) -> str:
    return lab_id[len("https://") :].partition("/")[0]


class NamePattern:
    """One parsed ``permittedLabIds`` pattern."""

    __slots__ = ("host", "path", "text", "wildcard")

    def __init__(self, text: str) -> None:
        match = _PATTERN.fullmatch(text) if len(text) <= MAX_ID_CHARS else None
        if match is None:
            raise MalformedInputError(
                f"lab id pattern {text[:80]!r} is not https://[*.]host[/path] in canonical form"
            )
        self.text = text
        self.wildcard = match["wild"] is not None
        self.host = match["host"]
        self.path = match["path"]

    def __repr__(self) -> str:
        return f"NamePattern({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamePattern) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def _host_matches(self, host: str) -> bool:
        return host.endswith("." + self.host) if self.wildcard else host == self.host

    def matches(self, lab_id: str) -> bool:
        """True if the canonical ``lab_id`` falls under this pattern."""
        if not is_lab_id(lab_id):
            return False
        host = _host(lab_id)
        path = lab_id[len("https://") + len(host) :]
        return self._host_matches(host) and _path_within(path, self.path)

    def overlaps(self, other: NamePattern) -> bool:
        """True if some lab id matches both patterns (the root refuses such members)."""
        if self.wildcard and other.wildcard:
            hosts = (
                self.host == other.host
                or self.host.endswith("." + other.host)
                or other.host.endswith("." + self.host)
            )
        elif self.wildcard:
            hosts = self._host_matches(other.host)
        elif other.wildcard:
            hosts = other._host_matches(self.host)
        else:
            hosts = self.host == other.host
        return hosts and (_path_within(self.path, other.path) or _path_within(other.path, self.path))


def _path_within(path: str, prefix: str) -> bool:
    return not prefix or path == prefix or path.startswith(prefix + "/")


def parse_patterns(values: Iterable[object], what: str) -> tuple[NamePattern, ...]:
    """Parse a list of patterns, naming the list in any error."""
    out = []
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise MalformedInputError(f"{what}[{i}] must be a string")
        try:
            out.append(NamePattern(value))
        except MalformedInputError as exc:
            raise MalformedInputError(f"{what}[{i}]: {exc}") from exc
    return tuple(out)


def is_under(url: str, lab_id: str) -> bool:
    """True if ``url`` (a status list's id) lies in the lab's own namespace: ``{lab_id}/…``."""
    return is_lab_id(url) and url.startswith(lab_id + "/")


Owner = TypeVar("Owner")


class NameIndex(Generic[Owner]):
    """Who may list a lab id, found without trying every pattern of every member.

    Patterns are indexed by host: an id's owners are found among the patterns of its own
    host and of each of its parent domains (the wildcards), so the cost grows with the
    number of labels of the id, not with the number of members (120,000 labs, 50 members).
    """

    def __init__(self, owned: Iterable[tuple[Owner, Iterable[NamePattern]]]) -> None:
        self._exact: dict[str, list[tuple[int, Owner, NamePattern]]] = {}
        self._wild: dict[str, list[tuple[int, Owner, NamePattern]]] = {}
        for rank, (owner, patterns) in enumerate(owned):
            for pattern in patterns:
                table = self._wild if pattern.wildcard else self._exact
                table.setdefault(pattern.host, []).append((rank, owner, pattern))

    def owners(self, lab_id: str) -> list[Owner]:
        """Every owner with a pattern matching ``lab_id``, each once, in the order given; none
        for an id that is not canonical."""
        if not is_lab_id(lab_id):
            return []
        host = _host(lab_id)
        path = lab_id[len("https://") + len(host) :]
        candidates = list(self._exact.get(host, ()))
        labels = host.split(".")
        for i in range(1, len(labels)):
            candidates += self._wild.get(".".join(labels[i:]), ())
        found = {rank: owner for rank, owner, pattern in candidates if _path_within(path, pattern.path)}
        return [found[rank] for rank in sorted(found)]


#: Hosts where a publication URL may be plain ``http://``: one machine trying Yilu out.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def check_publication_url(value: object, what: str = "publication URL") -> str:
    """Where a registry publishes its lists: an ``https://`` URL without spaces, at most
    400 characters; plain ``http://`` only on a loopback host (a trial on one machine —
    the lists are signed, so transport security protects privacy, not trust)."""
    from urllib.parse import urlsplit

    if not isinstance(value, str) or len(value) > 400 or any(c.isspace() for c in value):
        raise MalformedInputError(f"{what} must be an https:// URL of at most 400 characters without spaces")
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 -- parsing the port is the check
    except ValueError:
        raise MalformedInputError(f"{what} {value[:80]!r} is not a URL") from None
    if parts.scheme == "https" and host:
        return value
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        return value
    raise MalformedInputError(
        f"{what} {value[:80]!r} must be an https:// URL, e.g. https://cnas.example.cn/yilu "
        "(plain http:// only on 127.0.0.1 or localhost, for a trial on one machine)"
    )
