"""A lab's issuing state on disk: its key, certificate register and status lists.

Layout of a lab directory (docs/architecture.md, "Lab directory"):

    lab.json            identity, status-list URL, key id (no secrets)
    key.pem             the signing key, encrypted PKCS#8
    public.json         the public key record to hand to the lab's registry
    certificates.json   id -> report number, report digest, revocation index, revoked/suspended flags
    certificates/*.jwt  each issued certificate's VC-JWT, so that it can be shown again
    status/list.jwt     the signed status list, for revocation and suspension both

Issuance is all or nothing and idempotent (docs/operating.md, "Issuing"): the certificate file is
written before the register records it, both atomically, so an interruption leaves either
no certificate or a complete one; issuing the same report again returns the same
certificate, byte for byte.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from protocol import yl1
from protocol.credential import build_credential, certificate_id, status_entries, validate_report
from protocol.encoding import dumps_compact, format_time, shift
from protocol.errors import InputError, MalformedInputError, SecretError
from protocol.jws import TYP_VC, parse_compact, sign_compact
from protocol.keys import Alg, SigningKey
from protocol.lists import KeyRecord
from protocol.names import check_lab_id
from protocol.status_list import MIN_BITS, Bitstring, StatusList, slot_indices
from protocol.storage import (
    exclusive,
    load_key,
    passphrase,
    read_json,
    save_key,
    write_atomic,
    write_json,
)
from protocol.vocabulary import SCOPES, STATUS_PURPOSES, check_country

#: How long a signed status list stays valid; labs re-sign well before (docs/formats.md).
STATUS_LIST_VALIDITY: Final = timedelta(days=30)
#: ``yilu lab republish`` re-signs the lists when they expire within this (docs/operating.md).
REPUBLISH_MARGIN: Final = timedelta(days=10)
#: Held while the register changes, so concurrent ``yilu issue`` runs never lose a record.
LOCK_FILE: Final = ".lock"
#: The signed status list, inside the lab directory.
STATUS_LIST_FILE: Final = "status/list.jwt"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What ``yilu issue`` returns: the id, the VC-JWT, its ``YL1:`` text and status index.

    ``status_list_index`` is the certificate's revocation index 2k; its suspension index
    is the next one, 2k + 1, in the same list (docs/formats.md, "Status lists").
    """

    id: str
    jws: str
    qr: str
    status_list_index: int
    credential: dict[str, Any]
    #: True when ``issue`` returned a certificate issued earlier for the same report.
    existing: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "jws": self.jws,
            "qr": self.qr,
            "statusListIndex": self.status_list_index,
        }


class LabIssuer:
    """Opens a lab directory and issues, revokes and suspends its certificates."""

    def __init__(self, directory: Path, config: dict[str, Any], key: SigningKey | None) -> None:
        self.directory = directory
        self.config = config
        self._key = key
        self.kid: str = config["kid"]

    @property
    def key(self) -> SigningKey:
        """The signing key (a lab opened with ``key=False`` only reads its register)."""
        if self._key is None:
            raise SecretError("this lab was opened without its key")
        return self._key

    # -- creation and opening -------------------------------------------------------

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        lab_id: str,
        names: dict[str, str],
        country: str,
        passphrase_text: str,
        alg: Alg = "EdDSA",
        now: datetime,
        scopes: tuple[str, ...] = (),
        demo: bool = False,
    ) -> LabIssuer:
        """Make a new lab directory with a fresh key (refuses to overwrite one).

        ``scopes``, if given, are the categories the lab is accredited for: ``issue``
        then refuses reports of other scopes, which every verifier would reject.
        """
        check_lab_id(lab_id)
        country = check_country(country)
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise InputError(f"unknown scopes {', '.join(unknown)}; use one of {', '.join(SCOPES)}")
        if (directory / "lab.json").exists():
            raise InputError(f"{directory} already holds a lab")
        key = SigningKey.generate(alg)
        config = {
            "id": lab_id,
            "names": names,
            "country": country,
            "alg": alg,
            "kid": key.public.kid,
            "statusList": f"{lab_id}/status",
            "statusListBits": MIN_BITS,
            "scopes": list(scopes),
            "demo": demo,
        }
        save_key(directory / "key.pem", key, passphrase_text)
        write_json(directory / "lab.json", config)
        write_json(directory / "public.json", KeyRecord(key.public, now).to_json())
        write_json(directory / "certificates.json", {})
        lab = cls(directory, config, key)
        lab.publish_status_lists(now=now)
        return lab

    @classmethod
    def open(cls, directory: Path, *, key: bool = True) -> LabIssuer:
        """Open an existing lab directory; the key passphrase comes from the environment.

        ``key=False`` opens it to read issued certificates only, without the passphrase.
        """
        config = read_json(directory / "lab.json")
        if not isinstance(config, dict) or "kid" not in config or "statusList" not in config:
            raise MalformedInputError(f"{directory} is not a lab directory (lab.json is incomplete)")
        signing = load_key(directory / "key.pem", passphrase(demo=bool(config.get("demo")))) if key else None
        return cls(directory, config, signing)

    @property
    def id(self) -> str:
        return str(self.config["id"])

    def _register(self) -> dict[str, dict[str, Any]]:
        data = read_json(self.directory / "certificates.json")
        if not isinstance(data, dict):
            raise MalformedInputError("certificates.json is damaged")
        return data

    # -- issuance ---------------------------------------------------------------------

    def issue(self, report: dict[str, Any], *, now: datetime) -> IssuedCertificate:
        """Sign ``report`` as a TestCertificateCredential; record it in the register.

        The certificate id is the lab URI + ``/certificates/`` + the report number, so
        a report is certified once (docs/formats.md, "Credential"). Issuing the same
        report again returns the certificate already issued for it; a different report
        under a number already used is refused.
        """
        with exclusive(self.directory / LOCK_FILE):
            register = self._register()
            number = report.get("reportNumber") if isinstance(report, dict) else None
            if not isinstance(number, str) or not number:
                raise MalformedInputError("report invalid at reportNumber: a report needs a report number")
            cert_id = certificate_id(self.id, number)
            validate_report(report)
            digest = _report_digest(report)
            if cert_id in register:
                if register[cert_id].get("reportDigest") != digest:
                    raise InputError(
                        f"report {number} was already certified as {cert_id} with different content; "
                        "a changed report needs a new report number (and the old certificate revoked)"
                    )
                return self._stored(cert_id, register[cert_id], existing=True)
            slot = self._free_slot(register)
            index = slot_indices(slot)[0]
            credential = build_credential(
                report,
                credential_id=cert_id,
                issuer=self.id,
                valid_from=now,
                status=status_entries(slot, self.config["statusList"]),
            )
            accredited = self.config.get("scopes") or []
            if accredited and report.get("scope") not in accredited:
                raise InputError(
                    f"report {number} is for scope {report.get('scope')!r}, but this lab is accredited "
                    f"only for {', '.join(accredited)}: verifiers would reject it (SCOPE_NOT_ACCREDITED)"
                )
            jws = sign_compact(dumps_compact(credential), self.key, kid=self.kid, typ=TYP_VC)
            qr = yl1.encode(jws)
            if len(qr) > yl1.MAX_ISSUED_CHARS:
                raise InputError(
                    f"report {number} needs {len(qr)} QR characters; a QR code at ECC M holds at most "
                    f"{yl1.MAX_ISSUED_CHARS}: split it into several certificates"
                )
            # The certificate first, then the register entry that points at it: an
            # interruption between the two leaves an orphan file that the next issue overwrites.
            write_atomic(self._certificate_path(cert_id), jws + "\n")
            register[cert_id] = {
                "reportNumber": number,
                "reportDigest": digest,
                "statusListIndex": index,
                "issuedAt": format_time(now),
                "revocation": False,
                "suspension": False,
            }
            write_json(self.directory / "certificates.json", register)
            return IssuedCertificate(cert_id, jws, qr, index, credential)

    def show(self, cert_id: str) -> IssuedCertificate:
        """An issued certificate again, by id or report number (``yilu lab show``)."""
        register = self._register()
        found = self._find(register, cert_id)
        return self._stored(found, register[found])

    @staticmethod
    def _find(register: dict[str, dict[str, Any]], cert_id: str) -> str:
        if cert_id in register:
            return cert_id
        for key, entry in register.items():
            if entry.get("reportNumber") == cert_id:
                return key
        raise InputError(f"this lab has issued no certificate {cert_id!r}")

    def _certificate_path(self, cert_id: str) -> Path:
        return self.directory / "certificates" / f"{hashlib.sha256(cert_id.encode()).hexdigest()[:32]}.jwt"

    def _stored(self, cert_id: str, entry: dict[str, Any], *, existing: bool = False) -> IssuedCertificate:
        try:
            jws = self._certificate_path(cert_id).read_text().strip()
        except OSError as exc:
            raise InputError(f"the certificate file of {cert_id} is missing from {self.directory}") from exc
        credential = parse_compact(jws, expected_typ=TYP_VC).payload_json()
        index = int(entry["statusListIndex"])
        return IssuedCertificate(cert_id, jws, yl1.encode(jws), index, credential, existing)

    def _free_slot(self, register: dict[str, dict[str, Any]]) -> int:
        """A random unused slot k (bits 2k and 2k + 1): random allocation gives herd privacy
        (Bitstring Status List §6.1). The register records each certificate's 2k."""
        slots = int(self.config["statusListBits"]) // 2
        used = {int(c["statusListIndex"]) // 2 for c in register.values()}
        if len(used) >= slots:
            raise InputError(f"the lab's status list is full ({slots} certificates)")
        while True:
            slot = secrets.randbelow(slots)
            if slot not in used:
                return slot

    # -- status -----------------------------------------------------------------------

    def set_status(self, cert_id: str, *, purpose: str, value: bool, now: datetime) -> bool:
        """Set or clear the certificate's ``purpose`` bit (2k for revocation, 2k + 1 for
        suspension) and re-sign the list; False if the bit already had that value (nothing
        is re-signed then).

        A revocation is final: it is never cleared, and a revoked certificate is not
        suspended (which would tell inspectors the lab might lift it).
        """
        if purpose not in STATUS_PURPOSES:
            raise InputError(f"unknown status purpose {purpose!r}")
        with exclusive(self.directory / LOCK_FILE):
            register = self._register()
            entry = register[self._find(register, cert_id)]
            if purpose == "revocation" and not value and entry["revocation"]:
                raise InputError("a revocation is final and cannot be undone")
            if purpose == "suspension" and value and entry["revocation"]:
                raise InputError(
                    f"{cert_id} is revoked, which is final: suspending it would say nothing more"
                )
            if bool(entry[purpose]) == value:
                return False
            entry[purpose] = value
            write_json(self.directory / "certificates.json", register)
            self._publish(register, now=now)
            return True

    def publish_status_lists(self, *, now: datetime) -> str:
        """Re-sign the status list from the register; write it to ``status/list.jwt``."""
        with exclusive(self.directory / LOCK_FILE):
            return self._publish(self._register(), now=now)

    def republish(
        self, *, now: datetime, margin: timedelta = REPUBLISH_MARGIN, force: bool = False
    ) -> datetime | None:
        """Re-sign the status list if it expires within ``margin`` (or is missing), or always
        with ``force``.

        Returns the new expiry, or None when nothing needed doing. A lab runs this daily
        (``yilu lab republish``), so that lists never lapse even when nothing is revoked
        (docs/operating.md, "The daily routine").
        """
        expiry = self.status_list_expiry()
        due = expiry is None or expiry <= shift(now, margin)
        if not (due or force):
            return None
        self.publish_status_lists(now=now)
        return self.status_list_expiry()

    def status_list_expiry(self) -> datetime | None:
        """``validUntil`` of the published status list (None if none is published)."""
        status_list = self._published()
        return None if status_list is None else status_list.valid_until

    def _published(self) -> StatusList | None:
        path = self.directory / STATUS_LIST_FILE
        if not path.exists():
            return None
        return StatusList.from_credential(parse_compact(path.read_text().strip()).payload_json())

    def _publish(self, register: dict[str, dict[str, Any]], *, now: datetime) -> str:
        bits = Bitstring(int(self.config["statusListBits"]))
        for cert in register.values():
            revocation, suspension = slot_indices(int(cert["statusListIndex"]) // 2)
            if cert["revocation"]:
                bits.set(revocation, True)
            if cert["suspension"]:
                bits.set(suspension, True)
        # The list's validFrom strictly increases: verifiers keep the newest list of a
        # URL by validFrom, and two lists signed in the same second would tie.
        previous = self._published()
        issued = now.replace(microsecond=0)
        if previous is not None and issued <= previous.valid_from:
            issued = previous.valid_from + timedelta(seconds=1)
        status_list = StatusList(
            self.config["statusList"],
            self.id,
            STATUS_PURPOSES,
            bits,
            issued,
            shift(issued, STATUS_LIST_VALIDITY),
        )
        token = status_list.sign(self.key, self.kid)
        write_atomic(self.directory / STATUS_LIST_FILE, token)
        return token

    def status_list_tokens(self) -> list[str]:
        """The lab's currently published signed status list (one token)."""
        return [(self.directory / STATUS_LIST_FILE).read_text().strip()]


def _report_digest(report: dict[str, Any]) -> str:
    """Identifies a report's content (member order aside), to tell a repeat from a change."""
    return hashlib.sha256(dumps_compact(_sorted(report))).hexdigest()


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value
