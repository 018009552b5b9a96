"""``yilu demo``: a complete local federation in one directory (DESIGN.md, "Command line contract").

Shape (always the same; keys are fresh each time): a federation root; member registries
for CN, RU and KZ; a CN lab accredited for food and chemicals, a CN lab for
minerals-metals and a RU lab for food; agreements under which KZ and RU recognise CN
for food, chemicals and minerals-metals and CN recognises RU and KZ for food; signed
lists; and a verifier bundle. ``demo.json`` records the layout for ``demo refresh``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final

import click

from issuer import LabIssuer
from protocol.cli import EXIT_OK, group, json_option, on_terminal, print_json, progress, table
from protocol.errors import InputError, MalformedInputError
from protocol.lists import Scope
from protocol.storage import passphrase, read_json, write_atomic, write_json
from trust_registry import FederationRoot, Registry

FEDERATION_ID: Final = "https://federation.yilu.example"


@dataclass(frozen=True)
class _RegistrySpec:
    key: str
    id: str
    country: str
    body: str
    lab_ids: tuple[str, ...]


@dataclass(frozen=True)
class _LabSpec:
    key: str
    id: str
    registry: str
    names: dict[str, str]
    number: str
    scopes: tuple[str, ...]


REGISTRIES: Final = (
    _RegistrySpec("cn", "https://cnas.example.cn", "CN", "CNAS", ("https://*.example.cn",)),
    _RegistrySpec("ru", "https://fsa.example.ru", "RU", "Rosaccreditation", ("https://*.example.ru",)),
    _RegistrySpec("kz", "https://nca.example.kz", "KZ", "NCA", ("https://*.example.kz",)),
)
LABS: Final = (
    _LabSpec(
        "cn-food",
        "https://qdtc.example.cn",
        "cn",
        {
            "en": "Qingdao Detection & Testing Centre",
            "zh": "青岛检测中心",
            "ru": "Циндаоский центр испытаний",
        },
        "CNAS L0001",
        ("food", "chemicals"),
    ),
    _LabSpec(
        "cn-metals",
        "https://sdmt.example.cn",
        "cn",
        {
            "en": "Shandong Metals Testing Institute",
            "zh": "山东金属检测研究院",
            "ru": "Шаньдунский институт испытаний металлов",
        },
        "CNAS L0002",
        ("minerals-metals",),
    ),
    _LabSpec(
        "ru-food",
        "https://nftc.example.ru",
        "ru",
        {
            "en": "Novosibirsk Food Testing Centre",
            "zh": "新西伯利亚食品检测中心",
            "ru": "Новосибирский центр испытаний пищевой продукции",
        },
        "RA.RU.21NF01",
        ("food",),
    ),
)
AGREEMENTS: Final = (
    ("KZ", ("cn",), ("food", "chemicals", "minerals-metals")),
    ("RU", ("cn",), ("food", "chemicals", "minerals-metals")),
    ("CN", ("ru", "kz"), ("food",)),
)


def init(directory: Path, *, now: datetime) -> dict[str, Any]:
    """Build the demo federation in ``directory`` (which must be empty or absent)."""
    if directory.exists() and any(directory.iterdir()):
        raise InputError(f"{directory} is not empty; choose a new directory for the demo")
    secret = passphrase(demo=True)
    since = now - timedelta(days=365)
    root = FederationRoot.create(
        directory / "root",
        federation_id=FEDERATION_ID,
        passphrase_text=secret,
        now=since,
        demo=True,
    )
    registries: dict[str, Registry] = {}
    for spec in REGISTRIES:
        reg = Registry.create(
            directory / "registries" / spec.key,
            registry_id=spec.id,
            country=spec.country,
            accreditation_body=spec.body,
            publication_url=f"{spec.id}/yilu/",
            passphrase_text=secret,
            now=since,
            lab_ids=spec.lab_ids,
            demo=True,
        )
        registries[spec.key] = reg
        root.admit(reg.member_record(since=since))
    labs = []
    for lab_spec in LABS:
        reg = registries[lab_spec.registry]
        lab = LabIssuer.create(
            directory / "labs" / lab_spec.key,
            lab_id=lab_spec.id,
            names=lab_spec.names,
            country=reg.state["country"],
            passphrase_text=secret,
            now=now - timedelta(days=1),
            scopes=lab_spec.scopes,
            demo=True,
        )
        reg.add_lab(
            lab_id=lab.id,
            names=lab_spec.names,
            country=reg.state["country"],
            accreditation_number=lab_spec.number,
            scopes=[Scope(s) for s in lab_spec.scopes],
            key=read_json(lab.directory / "public.json"),
            accredited_since=since,
        )
        labs.append(
            {
                "id": lab.id,
                "dir": str(lab.directory.resolve()),
                "country": reg.state["country"],
                "scopes": list(lab_spec.scopes),
                "registry": lab_spec.registry,
            }
        )
    for country, accepted, scopes in AGREEMENTS:
        root.agree(
            country=country,
            accepts=[registries[k].id for k in accepted],
            scopes=list(scopes),
            since=since,
        )
    write_json(directory / "demo.json", {"labs": labs, "registries": [s.key for s in REGISTRIES]})
    bundle = refresh(directory, now=now)
    return {
        "bundle": str(bundle.resolve()),
        "rootKeys": str((directory / "root" / "root-keys.json").resolve()),
        "labs": [{k: lab[k] for k in ("id", "dir", "country", "scopes")} for lab in labs],
    }


def refresh(directory: Path, *, now: datetime) -> Path:
    """Republish every list (status lists, trust lists, federation list) and rebuild the bundle."""
    manifest = read_json(directory / "demo.json")
    if not isinstance(manifest, dict) or "labs" not in manifest:
        raise MalformedInputError(f"{directory} is not a demo directory (demo.json is missing)")
    registries = {key: Registry.open(directory / "registries" / key) for key in manifest["registries"]}
    for lab_info in manifest["labs"]:
        lab = LabIssuer.open(Path(lab_info["dir"]))
        lab.publish_status_lists(now=now)
        registries[lab_info["registry"]].mirror_status_lists(lab.status_list_tokens(), now=now)
    trust_lists = [reg.publish(now=now) for reg in registries.values()]
    status_lists = [t for reg in registries.values() for t in reg.status_list_tokens()]
    root = FederationRoot.open(directory / "root")
    root.publish(now=now)
    bundle = directory / "bundle.ylb"
    full, _ = root.build_bundle(trust_lists=trust_lists, status_lists=status_lists, now=now)
    write_atomic(bundle, full)
    return bundle


# -- yilu demo ------------------------------------------------------------------------------------

cli = group(
    "demo",
    help="A complete local federation in one directory, to try Yilu (DESIGN.md, "
    '"Command line contract"; keys use a fixed, public demo passphrase).',
    example="yilu demo init demo && yilu demo refresh demo",
)


@cli.command(
    "init",
    help="Build a complete local federation in DIR: a root, registries for CN, RU and KZ, three "
    "labs, agreements, signed lists and a verifier bundle.",
    short_help="build a complete local federation in DIR",
    example="yilu demo init demo\nyilu demo init demo --json | jq -r .bundle",
)
@click.argument("directory", metavar="DIR", help="where to build it (empty or absent)")
@json_option('{"bundle", "rootKeys", "labs"}')
def cli_init(directory: str, as_json: bool) -> int:
    from protocol.cli import now

    with progress("building the demo federation…"):
        info = init(Path(directory), now=now(None))
    if as_json:
        print_json(info)
        return EXIT_OK
    print(f"demo federation in {directory}")
    if on_terminal(sys.stdout):
        table(
            "labs",
            ("id", "country", "scopes", "directory"),
            [(lab["id"], lab["country"], ", ".join(lab["scopes"]), lab["dir"]) for lab in info["labs"]],
        )
    else:
        for lab in info["labs"]:
            print(f"  lab {lab['id']} ({lab['country']}: {', '.join(lab['scopes'])}) -> {lab['dir']}")
    print(f"  verifier bundle: {info['bundle']}")
    print(f"  root keys to pin: {info['rootKeys']}")
    return EXIT_OK


@cli.command(
    "refresh",
    help="Republish the demo federation's lists (after revocations or other changes) and rebuild its bundle.",
    short_help="republish the demo's lists and rebuild its bundle",
    example="yilu revoke QDTC-2026-FT-004512 --lab demo/labs/cn-food && yilu demo refresh demo",
)
@click.argument("directory", metavar="DIR", help="a directory made by yilu demo init")
def cli_refresh(directory: str) -> int:
    from protocol.cli import now

    with progress("republishing the demo's lists…"):
        bundle = refresh(Path(directory), now=now(None))
    print(f"republished the demo lists; bundle: {bundle}")
    return EXIT_OK
