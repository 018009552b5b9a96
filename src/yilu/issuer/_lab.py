"""A lab's issuing state on disk: its key, certificate register and status lists.

Layout of a lab directory (docs/architecture.md, "Lab directory"):

    lab.json            identity, status-list URLs, key id (no secrets)
    key.pem             the signing key, encrypted PKCS#8
    public.json         the public key record to hand to the lab's registry
    certificates.json   id -> report number, status index, revoked/suspended flags
    status/revocation.jwt, status/suspension.jwt   the signed status lists
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

from yilu.protocol import yl1
from yilu.protocol.credential import build_credential, certificate_id, status_entry
from yilu.protocol.encoding import dumps_compact, format_time
from yilu.protocol.errors import InputError, MalformedInputError
from yilu.protocol.jws import TYP_VC, sign_compact
from yilu.protocol.keys import Alg, SigningKey
from yilu.protocol.lists import KeyRecord
from yilu.protocol.status_list import MIN_BITS, Bitstring, StatusList
from yilu.protocol.storage import (
    exclusive,
    load_key,
    passphrase,
    read_json,
    save_key,
    write_atomic,
    write_json,
)
from yilu.protocol.vocabulary import SCOPES, STATUS_PURPOSES

#: How long a signed status list stays valid; labs re-sign well before (docs/formats.md).
STATUS_LIST_VALIDITY: Final = timedelta(days=30)
#: Held while the register changes, so concurrent ``yilu issue`` runs never lose a record.
LOCK_FILE: Final = ".lock"


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """What ``yilu issue`` returns: the id, the VC-JWT, its ``YL1:`` text and status index."""

    id: str
    jws: str
    qr: str
    status_list_index: int
    credential: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "jws": self.jws,
            "qr": self.qr,
            "statusListIndex": self.status_list_index,
        }


class LabIssuer:
    """Opens a lab directory and issues, revokes and suspends its certificates."""

    def __init__(self, directory: Path, config: dict[str, Any], key: SigningKey) -> None:
        self.directory = directory
        self.config = config
        self.key = key
        self.kid: str = config["kid"]

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
            "statusLists": {p: f"{lab_id}/status/{p}" for p in STATUS_PURPOSES},
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
    def open(cls, directory: Path) -> LabIssuer:
        """Open an existing lab directory; the key passphrase comes from the environment."""
        config = read_json(directory / "lab.json")
        if not isinstance(config, dict) or "kid" not in config or "statusLists" not in config:
            raise MalformedInputError(f"{directory} is not a lab directory (lab.json is incomplete)")
        key = load_key(directory / "key.pem", passphrase(demo=bool(config.get("demo"))))
        return cls(directory, config, key)

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
        a report is certified once (docs/formats.md, "Credential").
        """
        with exclusive(self.directory / LOCK_FILE):
            register = self._register()
            number = report.get("reportNumber") if isinstance(report, dict) else None
            if not isinstance(number, str) or not number:
                raise MalformedInputError("report invalid at reportNumber: a report needs a report number")
            cert_id = certificate_id(self.id, number)
            if cert_id in register:
                raise InputError(f"report {number} has already been certified as {cert_id}")
            index = self._free_index(register)
            lists = self.config["statusLists"]
            credential = build_credential(
                report,
                credential_id=cert_id,
                issuer=self.id,
                valid_from=now,
                status=[status_entry(p, index, lists[p]) for p in STATUS_PURPOSES],
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
            register[cert_id] = {
                "reportNumber": number,
                "statusListIndex": index,
                "issuedAt": format_time(now),
                "revocation": False,
                "suspension": False,
            }
            write_json(self.directory / "certificates.json", register)
            return IssuedCertificate(cert_id, jws, qr, index, credential)

    def _free_index(self, register: dict[str, dict[str, Any]]) -> int:
        """A random unused index: random allocation gives herd privacy (Bitstring Status List §6.1)."""
        size = int(self.config["statusListBits"])
        used = {int(c["statusListIndex"]) for c in register.values()}
        if len(used) >= size:
            raise InputError("the lab's status lists are full")
        while True:
            index = secrets.randbelow(size)
            if index not in used:
                return index

    # -- status -----------------------------------------------------------------------

    def set_status(self, cert_id: str, *, purpose: str, value: bool, now: datetime) -> None:
        """Set or clear the certificate's bit in the ``purpose`` list and re-sign the lists."""
        if purpose not in STATUS_PURPOSES:
            raise InputError(f"unknown status purpose {purpose!r}")
        with exclusive(self.directory / LOCK_FILE):
            register = self._register()
            entry = register.get(cert_id) or next(
                (c for c in register.values() if c["reportNumber"] == cert_id), None
            )
            if entry is None:
                raise InputError(f"this lab has issued no certificate {cert_id!r}")
            if purpose == "revocation" and not value and entry["revocation"]:
                raise InputError("a revocation is final and cannot be undone")
            entry[purpose] = value
            write_json(self.directory / "certificates.json", register)
            self.publish_status_lists(now=now)

    def publish_status_lists(self, *, now: datetime) -> dict[str, str]:
        """Re-sign both status lists from the register; write them under ``status/``."""
        register = self._register()
        size = int(self.config["statusListBits"])
        out: dict[str, str] = {}
        for purpose in STATUS_PURPOSES:
            bits = Bitstring(size)
            for cert in register.values():
                if cert[purpose]:
                    bits.set(int(cert["statusListIndex"]), True)
            status_list = StatusList(
                self.config["statusLists"][purpose],
                self.id,
                purpose,
                bits,
                now,
                now + STATUS_LIST_VALIDITY,
            )
            token = status_list.sign(self.key, self.kid)
            write_atomic(self.directory / "status" / f"{purpose}.jwt", token)
            out[purpose] = token
        return out

    def status_list_tokens(self) -> list[str]:
        """The lab's currently published signed status lists."""
        return [(self.directory / "status" / f"{p}.jwt").read_text().strip() for p in STATUS_PURPOSES]
