"""The offline bundle: one signed file holding a whole trust snapshot.

Payload (docs/formats.md, "Bundle"): the federation it belongs to, its own ``sequence``
(one more for every bundle the root builds: a verifier never installs a lower one), the
federation root's public keys (informative only: verifiers use their pinned keys), the
signed federation list, every member's signed trust list and every lab's signed status
lists, each kept exactly as published. The bundle is signed by a root key; each list
inside stays verifiable on its own, so the bundle adds integrity of the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from yilu.protocol.encoding import dumps_compact, format_time, parse_time
from yilu.protocol.errors import MalformedInputError
from yilu.protocol.jws import TYP_VC, Signer, sign_compact
from yilu.protocol.lists import TYP_FEDERATION_LIST, TYP_TRUST_LIST, is_version

TYP_BUNDLE: Final = "yilu-bundle+jwt"
#: What each Yilu ``typ`` says a file is, for plain messages when the wrong file is given.
KIND_OF_TYP: Final = {
    TYP_BUNDLE: "a bundle",
    TYP_FEDERATION_LIST: "a federation list",
    TYP_TRUST_LIST: "a trust list",
    TYP_VC: "a certificate or status list",
}
#: Largest bundle file accepted (120,000 labs with two keys each fit well inside).
MAX_BUNDLE_BYTES: Final = 512 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Bundle:
    federation: str
    sequence: int
    created_at: datetime
    root_keys: tuple[dict[str, str], ...]
    federation_list: str
    trust_lists: tuple[str, ...]
    status_lists: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "YiluBundle",
            "version": 1,
            "federation": self.federation,
            "sequence": self.sequence,
            "createdAt": format_time(self.created_at),
            "rootKeys": list(self.root_keys),
            "federationList": self.federation_list,
            "trustLists": list(self.trust_lists),
            "statusLists": list(self.status_lists),
        }

    def sign(self, signer: Signer, kid: str) -> str:
        return sign_compact(dumps_compact(self.to_json()), signer, kid=kid, typ=TYP_BUNDLE)

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Bundle:
        if obj.get("type") != "YiluBundle" or not is_version(obj, 1):
            raise MalformedInputError("not a version 1 Yilu bundle")
        federation, sequence = obj.get("federation"), obj.get("sequence")
        if not isinstance(federation, str) or type(sequence) is not int or sequence < 0:
            raise MalformedInputError("bundle lacks its federation or a whole-number sequence")
        roots, fed = obj.get("rootKeys"), obj.get("federationList")
        trust, status = obj.get("trustLists"), obj.get("statusLists")
        if (
            not isinstance(roots, list)
            or not all(isinstance(k, dict) for k in roots)
            or not isinstance(fed, str)
            or not isinstance(trust, list)
            or not isinstance(status, list)
            or not all(isinstance(t, str) for t in trust + status)
        ):
            raise MalformedInputError("bundle members have the wrong types")
        return cls(
            federation,
            sequence,
            parse_time(obj.get("createdAt"), "bundle.createdAt"),
            tuple(roots),
            fed,
            tuple(trust),
            tuple(status),
        )
