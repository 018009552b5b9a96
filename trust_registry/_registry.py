"""A registry (accreditation body) and the federation root, kept as files.

Registry directory: ``registry.json`` (identity, labs, own keys, sequence), ``key.pem``
(encrypted), ``published/trust-list.jwt`` and ``published/status/*.jwt`` (the labs'
status lists it mirrors, one file per list URL, each verified before it is kept).
Root directory: ``root.json`` (members with the lab ids each may list, agreements,
keys, sequences), ``key.pem``, ``published/federation-list.jwt``. Formats: docs/formats.md.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from protocol.bundle import Bundle, make_delta, read_unchecked
from protocol.encoding import format_time, parse_time, shift
from protocol.errors import InputError, MalformedInputError
from protocol.jws import parse_compact
from protocol.keys import SigningKey
from protocol.lists import (
    Agreement,
    FederationList,
    KeyRecord,
    Lab,
    Member,
    Scope,
    StatusEvent,
    TrustList,
    status_at,
)
from protocol.names import NamePattern, check_lab_id, is_under
from protocol.rootchain import sign_rotation
from protocol.status_list import StatusList
from protocol.storage import (
    load_key,
    passphrase,
    read_json,
    save_key,
    write_atomic,
    write_json,
)
from protocol.vocabulary import SCOPES, check_country
from trust_registry._mirror import check_status_lists
from trust_registry._root_rules import check_patterns_disjoint
from trust_registry._warnings import list_warnings

#: How long a published list stays valid; publish again before then (docs/formats.md).
LIST_VALIDITY: Final = timedelta(days=30)
#: ``republish`` signs a new list when the published one expires within this (docs/operating.md).
REPUBLISH_MARGIN: Final = timedelta(days=10)


class _Party:
    """Shared plumbing of a registry and the root: a JSON state file and an encrypted key."""

    state_file: str = ""
    published_file: str = ""

    def __init__(self, directory: Path, state: dict[str, Any], key: SigningKey) -> None:
        self.directory = directory
        self.state = state
        self.key = key

    @classmethod
    def _load(cls, directory: Path) -> tuple[dict[str, Any], SigningKey]:
        state = read_json(directory / cls.state_file)
        if not isinstance(state, dict) or "id" not in state or "keys" not in state:
            raise MalformedInputError(f"{directory} is not a {cls.state_file[:-5]} directory")
        return state, load_key(directory / "key.pem", passphrase(demo=bool(state.get("demo"))))

    @staticmethod
    def _new_key(directory: Path, passphrase_text: str, now: datetime) -> tuple[SigningKey, dict[str, Any]]:
        key = SigningKey.generate()
        save_key(directory / "key.pem", key, passphrase_text)
        return key, KeyRecord(key.public, now).to_json()

    def save(self) -> None:
        write_json(self.directory / self.state_file, self.state)

    @property
    def id(self) -> str:
        return str(self.state["id"])

    def _next_sequence(self) -> int:
        self.state["sequence"] = int(self.state.get("sequence", 0)) + 1
        return int(self.state["sequence"])

    def publish(self, *, now: datetime, validity: timedelta = LIST_VALIDITY) -> str:
        raise NotImplementedError

    def published_expiry(self) -> datetime | None:
        """``expiresAt`` of the list last published, or None if there is none yet."""
        path = self.directory / "published" / self.published_file
        if not path.exists():
            return None
        return parse_time(
            parse_compact(path.read_text().strip()).payload_json().get("expiresAt"), "expiresAt"
        )

    def republish(
        self,
        *,
        now: datetime,
        margin: timedelta = REPUBLISH_MARGIN,
        validity: timedelta = LIST_VALIDITY,
        force: bool = False,
    ) -> str | None:
        """Publish again if the published list expires within ``margin`` (or none exists yet),
        or always with ``force``; None when nothing needed doing. Run daily, so lists never
        lapse (docs/operating.md)."""
        expires = self.published_expiry()
        if not force and expires is not None and expires > shift(now, margin):
            return None
        return self.publish(now=now, validity=validity)


class Registry(_Party):
    """One accreditation body's registry: its labs, their scopes, status and keys."""

    state_file = "registry.json"
    published_file = "trust-list.jwt"

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        registry_id: str,
        country: str,
        accreditation_body: str,
        publication_url: str,
        passphrase_text: str,
        now: datetime,
        lab_ids: Iterable[str] = (),
        demo: bool = False,
    ) -> Registry:
        """A new registry. ``lab_ids`` are the patterns of the lab ids it will ask the root
        to let it list; ``add_lab`` refuses labs outside them (docs/formats.md)."""
        if (directory / cls.state_file).exists():
            raise InputError(f"{directory} already holds a registry")
        check_lab_id(registry_id, "registry id")
        country = check_country(country)
        if not accreditation_body.strip():
            raise InputError("a registry needs the name of its accreditation body (--body), e.g. CNAS")
        if not publication_url.startswith("https://") or any(c.isspace() for c in publication_url):
            raise InputError(f"publication URL {publication_url[:80]!r} must be an https:// URL")
        patterns = [NamePattern(p).text for p in lab_ids]
        key, record = cls._new_key(directory, passphrase_text, now)
        state = {
            "id": registry_id,
            "country": country,
            "accreditationBody": accreditation_body,
            "publicationUrl": publication_url,
            "labIds": patterns,
            "sequence": 0,
            "keys": [record],
            "labs": [],
            "demo": demo,
        }
        registry = cls(directory, state, key)
        registry.save()
        return registry

    @classmethod
    def open(cls, directory: Path) -> Registry:
        state, key = cls._load(directory)
        return cls(directory, state, key)

    def member_record(self, *, since: datetime, permitted_lab_ids: Iterable[str] | None = None) -> Member:
        """How the federation root lists this registry: its keys, an active status from
        ``since`` and the lab ids it may list (its name constraints, docs/formats.md); by
        default the patterns the registry was created with."""
        wanted = self.state.get("labIds", []) if permitted_lab_ids is None else permitted_lab_ids
        patterns = tuple(NamePattern(p) for p in wanted)
        if not patterns:
            raise InputError("a member registry needs at least one lab id pattern (--lab-ids)")
        return Member(
            self.id,
            self.state["country"],
            self.state["accreditationBody"],
            self.state["publicationUrl"],
            tuple(KeyRecord.from_json(k, "key") for k in self.state["keys"]),
            (StatusEvent("active", since),),
            patterns,
        )

    def _lab(self, lab_id: str) -> dict[str, Any]:
        for lab in self.state["labs"]:
            if lab["id"] == lab_id:
                return dict(lab)
        raise InputError(f"no lab {lab_id!r} in registry {self.id}")

    def _put_lab(self, lab: dict[str, Any]) -> None:
        self.state["labs"] = [lab if x["id"] == lab["id"] else x for x in self.state["labs"]]
        Lab.from_json(lab, "lab")  # never store what would not publish
        self.save()

    def add_lab(
        self,
        *,
        lab_id: str,
        names: dict[str, str],
        country: str,
        accreditation_number: str,
        scopes: Iterable[Scope],
        key: dict[str, Any],
        accredited_since: datetime,
    ) -> Lab:
        """Accredit a lab: record its scopes, an active status from ``accredited_since`` and its key.

        The lab id must lie within the registry's own lab id patterns (verifiers would drop
        the listing otherwise), and not inside, nor around, another lab's id.
        """
        check_lab_id(lab_id)
        patterns = [NamePattern(p) for p in self.state.get("labIds", [])]
        if patterns and not any(p.matches(lab_id) for p in patterns):
            raise InputError(
                f"lab id {lab_id} is outside the lab ids this registry may list "
                f"({', '.join(p.text for p in patterns)}): verifiers would drop it"
            )
        for other in self.state["labs"]:
            if other["id"] == lab_id:
                raise InputError(f"lab {lab_id!r} is already in registry {self.id}")
            if is_under(lab_id, other["id"]) or is_under(other["id"], lab_id):
                raise InputError(
                    f"lab id {lab_id} is nested with the id of lab {other['id']}; use a separate id"
                )
        scope_list = list(scopes)
        for scope in scope_list:
            if scope.category not in SCOPES:
                raise InputError(f"unknown scope {scope.category!r}; use one of {', '.join(SCOPES)}")
        lab = Lab(
            lab_id,
            names,
            country.upper(),
            accreditation_number,
            tuple(scope_list),
            (StatusEvent("active", accredited_since),),
            (KeyRecord.from_json(key, "lab key"),),
        )
        self.state["labs"].append(lab.to_json())
        self.save()
        return lab

    def set_lab_status(self, lab_id: str, status: str, *, since: datetime, for_cause: bool = False) -> None:
        """Append an accreditation status change (active / suspended / withdrawn).

        A withdrawal ``for_cause`` voids everything the lab ever signed, whatever its date
        (docs/verifying.md, "Back-dating"); it is final.
        """
        if for_cause and status != "withdrawn":
            raise InputError("only a withdrawal can be for cause")
        lab = self._lab(lab_id)
        if any(e.get("forCause") for e in lab["status"]):
            raise InputError(f"lab {lab_id} was withdrawn for cause; that is final")
        lab["status"] = [*lab["status"], StatusEvent(status, since, for_cause).to_json()]
        self._put_lab(lab)

    def set_lab_scopes(self, lab_id: str, scopes: Iterable[Scope]) -> None:
        lab = self._lab(lab_id)
        lab["scopes"] = [s.to_json() for s in scopes]
        self._put_lab(lab)

    def add_lab_key(self, lab_id: str, key: dict[str, Any]) -> None:
        lab = self._lab(lab_id)
        record = KeyRecord.from_json(key, "lab key")
        if any(k["kid"] == record.kid and k["jwk"] == dict(record.key.jwk) for k in lab["keys"]):
            raise InputError(f"lab {lab_id!r} already has key {record.kid}")
        lab["keys"] = [*lab["keys"], record.to_json()]
        self._put_lab(lab)

    def revoke_lab_key(self, lab_id: str, kid: str, *, at: datetime, reason: str) -> None:
        """Revoke a lab key; ``keyCompromise`` invalidates everything the key signed."""
        lab = self._lab(lab_id)
        found = False
        for k in lab["keys"]:
            if k["kid"] == kid:
                k["revokedAt"], k["revocationReason"] = format_time(at), reason
                found = True
        if not found:
            raise InputError(f"lab {lab_id!r} has no key {kid!r}")
        self._put_lab(lab)

    def mirror_status_lists(self, tokens: Iterable[str], *, now: datetime) -> list[str]:
        """Keep copies of this registry's labs' signed status lists, so that verifiers sync
        everything from here. Each list is checked first (all or nothing): its issuer must
        be a lab of this registry, its signature a current key of that lab, its URL inside
        the lab's id; it must not be dated in the future, nor be older than the copy already
        kept, and it may not clear a revocation bit (an even index) the kept copy has set
        (revocation is final; clearing a suspension bit, an odd index, is an unsuspension).
        Returns the URLs whose copy changed."""
        accepted = check_status_lists(
            tokens, registry_id=self.id, lab_of=self._lab_record, kept=self._mirrored, now=now
        )
        changed = []
        for (issuer, url), (_, token) in accepted.items():
            path = self._mirror_path(issuer, url)
            if not path.exists() or path.read_text().strip() != token:
                write_atomic(path, token)
                changed.append(url)
        return changed

    def _lab_record(self, lab_id: str) -> Lab | None:
        lab = next((x for x in self.state["labs"] if x["id"] == lab_id), None)
        return None if lab is None else Lab.from_json(lab, "lab")

    def _mirror_path(self, issuer: str, url: str) -> Path:
        name = hashlib.sha256(f"{issuer} {url}".encode()).hexdigest()[:24]
        return self.directory / "published" / "status" / f"{name}.jwt"

    def _mirrored(self, issuer: str, url: str) -> StatusList | None:
        path = self._mirror_path(issuer, url)
        if not path.exists():
            return None
        return StatusList.from_credential(parse_compact(path.read_text().strip()).payload_json())

    def status_list_tokens(self) -> list[str]:
        folder = self.directory / "published" / "status"
        return [p.read_text().strip() for p in sorted(folder.glob("*.jwt"))] if folder.is_dir() else []

    def publish(self, *, now: datetime, validity: timedelta = LIST_VALIDITY) -> str:
        """Sign the trust list with the next sequence and write ``published/trust-list.jwt``."""
        trust_list = TrustList(
            self.id,
            self.state["country"],
            self.state["accreditationBody"],
            self._next_sequence(),
            now,
            shift(now, validity),
            tuple(Lab.from_json(x, "lab") for x in self.state["labs"]),
        )
        token = trust_list.sign(self.key, self.key.public.kid)
        write_atomic(self.directory / "published" / "trust-list.jwt", token)
        self.save()
        return token

    def trust_list_token(self) -> str:
        path = self.directory / "published" / "trust-list.jwt"
        if not path.exists():
            raise InputError(f"registry {self.id} has not published a trust list yet")
        return path.read_text().strip()


class FederationRoot(_Party):
    """The alliance secretariat: admits registries and records recognition agreements."""

    state_file = "root.json"
    published_file = "federation-list.jwt"

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        federation_id: str,
        passphrase_text: str,
        now: datetime,
        demo: bool = False,
    ) -> FederationRoot:
        if (directory / cls.state_file).exists():
            raise InputError(f"{directory} already holds a federation root")
        check_lab_id(federation_id, "federation id")
        key, record = cls._new_key(directory, passphrase_text, now)
        state = {
            "id": federation_id,
            "sequence": 0,
            "keys": [record],
            "registries": [],
            "agreements": [],
            "demo": demo,
        }
        root = cls(directory, state, key)
        root.save()
        write_json(directory / "root-keys.json", [record["jwk"]])
        return root

    @classmethod
    def open(cls, directory: Path) -> FederationRoot:
        state, key = cls._load(directory)
        return cls(directory, state, key)

    @property
    def root_version(self) -> int:
        """1, +1 at every :meth:`rotate_key`."""
        return 1 + len(self.state.get("rootChain", []))

    def rotate_key(self, *, passphrase_text: str, now: datetime) -> str:
        """Rotate the root key (docs/security.md, "Rotating the root key"): a new key signs,
        with the current one, the statement that makes it root version N+1; the chain of
        statements is kept, every later bundle carries it, and later lists are signed with
        the new key only. Returns the statement."""
        old, new = self.key, SigningKey.generate()
        statement = sign_rotation(
            self.id,
            self.root_version + 1,
            [old.public],
            [new.public],
            old_signer=old,
            old_kid=old.public.kid,
            new_signer=new,
            new_kid=new.public.kid,
            issued_at=now,
        )
        save_key(self.directory / "key.pem", new, passphrase_text)
        self.key = new
        self.state["keys"] = [KeyRecord(new.public, now).to_json()]
        self.state["rootChain"] = [*self.state.get("rootChain", []), statement]
        self.save()
        write_json(self.directory / "root-keys.json", self.root_jwks())
        return statement

    def root_jwks(self) -> list[dict[str, str]]:
        """The root public keys verifiers pin (also written to ``root-keys.json``)."""
        return [dict(k["jwk"]) for k in self.state["keys"]]

    def admit(self, member: Member) -> None:
        """Admit a registry; its lab id patterns may not overlap any other member's, so that
        every lab id belongs to at most one registry (docs/formats.md, "Lab ids and name
        constraints")."""
        if any(r["id"] == member.id for r in self.state["registries"]):
            raise InputError(f"registry {member.id} is already a member")
        others = [Member.from_json(other, "member") for other in self.state["registries"]]
        check_patterns_disjoint(
            member.permitted_lab_ids,
            ((m.id, m.accreditation_body, m.permitted_lab_ids) for m in others),
        )
        self.state["registries"].append(member.to_json())
        self.save()

    def set_member_status(self, registry_id: str, status: str, *, since: datetime) -> None:
        for r in self.state["registries"]:
            if r["id"] == registry_id:
                r["status"] = [*r["status"], StatusEvent(status, since).to_json()]
                Member.from_json(r, "member")
                self.save()
                return
        raise InputError(f"no member registry {registry_id!r}")

    def agree(self, *, country: str, accepts: list[str], scopes: list[str], since: datetime) -> None:
        """Record that ``country`` accepts the ``accepts`` registries' results for ``scopes``."""
        known = {r["id"] for r in self.state["registries"]}
        unknown = [a for a in accepts if a not in known]
        if unknown:
            raise InputError(f"not member registries: {', '.join(unknown)}")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise InputError(f"unknown scopes: {', '.join(bad)}")
        agreement = Agreement(check_country(country), tuple(accepts), tuple(scopes), since)
        self.state["agreements"].append(agreement.to_json())
        self.save()

    def federation_list(self, *, now: datetime, validity: timedelta) -> FederationList:
        return FederationList(
            self.id,
            self._next_sequence(),
            now,
            shift(now, validity),
            tuple(Member.from_json(r, "member") for r in self.state["registries"]),
            tuple(Agreement.from_json(a, "agreement") for a in self.state["agreements"]),
            root_version=self.root_version,
            root_keys=(self.key.public,),
        )

    def publish(self, *, now: datetime, validity: timedelta = LIST_VALIDITY) -> str:
        token = self.federation_list(now=now, validity=validity).sign(self.key, self.key.public.kid)
        write_atomic(self.directory / "published" / "federation-list.jwt", token)
        self.save()
        return token

    def bundle_warnings(
        self, *, trust_lists: Iterable[str], status_lists: Iterable[str], now: datetime
    ) -> list[str]:
        """What devices will not be able to use in a bundle built ``now`` from these lists:
        an expired federation list, members without a trust list, and the lists that
        :func:`list_warnings` names."""
        trust_lists = list(trust_lists)
        out: list[str] = []
        expiry = self.published_expiry()
        if expiry is not None and expiry < now:
            out.append(f"the federation list expired {format_time(expiry)}: devices will refuse the bundle")
        given = set()
        for token in trust_lists:
            with contextlib.suppress(InputError):
                given.add(parse_compact(token.strip()).payload_json().get("registry"))
        members = [Member.from_json(r, "member") for r in self.state["registries"]]
        out += [
            f"no trust list of member {m.id} is given: certificates of its labs cannot be verified"
            for m in members
            if m.id not in given and status_at(m.status, now) == "active"
        ]
        return out + list_warnings(trust_lists=trust_lists, status_lists=status_lists, now=now)

    def build_bundle(
        self, *, trust_lists: Iterable[str], status_lists: Iterable[str], now: datetime
    ) -> tuple[bytes, bytes | None]:
        """One signed file holding the whole snapshot, for devices with no network, and a
        delta from the previous bundle this root built (None for the first one).

        The root keeps its last bundle (``published/bundle.ylb``) to build the next delta
        from: a device that installed it needs only what changed (docs/formats.md, "Deltas").
        """
        path = self.directory / "published" / "federation-list.jwt"
        if not path.exists():
            raise InputError("publish the federation list before building a bundle")
        previous = self._last_bundle()
        self.state["bundleSequence"] = int(self.state.get("bundleSequence", 0)) + 1
        self.save()
        bundle = Bundle(
            self.id,
            int(self.state["bundleSequence"]),
            now,
            tuple(self.root_jwks()),
            path.read_text().strip(),
            tuple(trust_lists),
            tuple(status_lists),
            tuple(self.state.get("rootChain", [])),
        )
        full = bundle.sign(self.key, self.key.public.kid)
        delta = None
        if previous is not None and previous.federation == bundle.federation:
            delta = make_delta(previous, bundle, self.key, self.key.public.kid)
        write_atomic(self.directory / "published" / "bundle.ylb", full)
        return full, delta

    def _last_bundle(self) -> Bundle | None:
        """The previous bundle this root built (its own file: read without a check of the pin)."""
        path = self.directory / "published" / "bundle.ylb"
        if not path.exists():
            return None
        try:
            return read_unchecked(path.read_bytes())
        except InputError:
            return None
