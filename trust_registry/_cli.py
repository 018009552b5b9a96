"""The registry's and the federation root's commands: ``yilu registry …`` and ``yilu root …``.

Both work on directories of files today (``trust_registry/_registry.py``). Each group is
built by one function (:func:`registry_group`, :func:`root_group`), so that a version
speaking HTTP to the registry and root services can replace either one whole; ``yilu/cli.py``
composes the ``registry`` and ``root`` objects below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import click

from protocol.cli import (
    EXIT_OK,
    FC,
    Command,
    Group,
    at_option,
    err,
    group,
    now,
    output_path,
    progress,
    warn,
)

STATUSES: Final = ("active", "suspended", "withdrawn")
FORCE_HELP: Final = "sign one now, however long the last stays valid"


def _dir_argument(what: str) -> Callable[[FC], FC]:
    return click.argument("directory", metavar="DIR", help=what)


def _publish(party: Any, republish: bool, force: bool, when: datetime, what: str) -> None:
    """``publish`` always signs a new list; ``republish`` only when the last one expires within
    10 days (for a daily job: docs/operating.md)."""
    from protocol.encoding import format_time

    path = party.directory / "published" / party.published_file
    if not republish:
        party.publish(now=when)
    elif party.republish(now=when, force=force) is None:
        until = format_time(party.published_expiry())
        err(f"the {what} {path} is valid until {until}; nothing to do (--force signs one now)")
        return
    until = format_time(party.published_expiry())
    err(f"published {path} (sequence {party.state['sequence']}, valid until {until})")


# -- yilu registry --------------------------------------------------------------------------------

#: A key id (11 base64url characters) may start with '-', which click would read as an
#: option: such a token after ``revoke-key`` is marked so that it reaches the kid argument.
_KID: Final = re.compile(r"[A-Za-z0-9_-]{11}")
_KID_MARK: Final = "\x00kid:"


class _RevokeKeyCommand(Command):
    """``revoke-key``: a kid that looks like an option is still the KID argument."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = {name for p in self.params for name in (*p.opts, *p.secondary_opts)}
        options.update(ctx.help_option_names)
        marked = [
            _KID_MARK + a if a.startswith("-") and _KID.fullmatch(a) and a not in options else a for a in args
        ]
        return super().parse_args(ctx, marked)


def _kid(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return value.removeprefix(_KID_MARK)


def registry_group() -> Group:
    """``yilu registry``: a registry kept as a directory of files."""
    registry = group(
        "registry",
        help="Registry (accreditation body) administration: the labs it accredits, their "
        "status and keys, their status lists, and its signed trust list.",
        example="yilu registry add-lab registries/cn --lab labs/qdtc --number CNAS-L0001 --scope food\n"
        "yilu registry publish registries/cn",
    )
    registry_dir = _dir_argument("the registry directory")

    @registry.command(
        "init",
        help="Create a registry directory with an encrypted key (passphrase from "
        "$YILU_KEY_PASSPHRASE), with the lab ids it will list; the root must admit it with them.",
        short_help="create a registry directory with an encrypted key",
        example="YILU_KEY_PASSPHRASE=… yilu registry init registries/cn --id https://cnas.example.cn \\\n"
        "    --country CN --body CNAS --url https://cnas.example.cn/yilu/ --lab-ids 'https://*.example.cn'",
    )
    @_dir_argument("the new registry directory (empty or absent)")
    @click.option(
        "--id", "registry_id", required=True, help="the registry's id, e.g. https://cnas.example.cn"
    )
    @click.option("--country", required=True, metavar="CC", help="its country (ISO 3166-1 alpha-2)")
    @click.option("--body", required=True, help="accreditation body name, e.g. CNAS")
    @click.option("--url", required=True, help="where the registry publishes its lists")
    @click.option(
        "--lab-ids",
        multiple=True,
        required=True,
        metavar="PATTERN",
        help="lab ids it will list, e.g. https://*.example.cn (repeat); the root must admit it with them",
    )
    def registry_init(
        directory: str, registry_id: str, country: str, body: str, url: str, lab_ids: tuple[str, ...]
    ) -> int:
        from protocol.storage import passphrase
        from trust_registry import Registry

        reg = Registry.create(
            Path(directory),
            registry_id=registry_id,
            country=country,
            accreditation_body=body,
            publication_url=url,
            passphrase_text=passphrase(),
            now=now(None),
            lab_ids=list(lab_ids),
        )
        err(f"created registry {reg.id}; it will list lab ids {', '.join(reg.state['labIds'])}")
        return EXIT_OK

    @registry.command(
        "add-lab",
        help="Accredit a lab, from its lab directory (lab.json and public.json), for scopes.",
        short_help="accredit a lab (from its lab directory) for scopes",
        example="yilu registry add-lab registries/cn --lab labs/qdtc --number CNAS-L0001 --scope food",
    )
    @registry_dir
    @click.option(
        "--lab", required=True, metavar="LABDIR", help="the lab directory (reads lab.json and public.json)"
    )
    @click.option("--number", required=True, help="accreditation number")
    @click.option("--scope", multiple=True, required=True, help="accredited scope (repeat)")
    def registry_add_lab(directory: str, lab: str, number: str, scope: tuple[str, ...]) -> int:
        from protocol.lists import Scope
        from protocol.storage import read_json
        from trust_registry import Registry

        reg = Registry.open(Path(directory))
        config = read_json(Path(lab) / "lab.json")
        reg.add_lab(
            lab_id=config["id"],
            names=config["names"],
            country=config["country"],
            accreditation_number=number,
            scopes=[Scope(s) for s in scope],
            key=read_json(Path(lab) / "public.json"),
            accredited_since=now(None),
        )
        err(f"accredited {config['id']} for {', '.join(scope)}")
        return EXIT_OK

    @registry.command(
        "lab-status",
        help="Record a change of a lab's accreditation status; publish to make it known.",
        short_help="record a lab's accreditation status change",
        example="yilu registry lab-status registries/cn https://qdtc.example.cn suspended\n"
        "yilu registry lab-status registries/cn https://qdtc.example.cn withdrawn --for-cause",
    )
    @registry_dir
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument("status", type=click.Choice(STATUSES), help="its new status")
    @click.option(
        "--for-cause",
        is_flag=True,
        help="a withdrawal for cause: everything the lab ever signed becomes void (final)",
    )
    @at_option("the change takes effect at this RFC 3339 time (default: now)", hidden=False)
    def registry_lab_status(directory: str, lab_id: str, status: str, for_cause: bool, at: str | None) -> int:
        from trust_registry import Registry

        reg = Registry.open(Path(directory))
        reg.set_lab_status(lab_id, status, since=now(at), for_cause=for_cause)
        cause = " for cause: everything it signed is void" if for_cause else ""
        err(f"{lab_id} is {status} from {at or 'now'}{cause}; publish to make it known")
        return EXIT_OK

    @registry.command(
        "revoke-key",
        cls=_RevokeKeyCommand,
        help="Revoke a lab's signing key; keyCompromise voids all it signed. Publish to make it known.",
        short_help="revoke a lab's signing key (keyCompromise voids all it signed)",
        example="yilu registry revoke-key registries/cn https://qdtc.example.cn -Xb3kQ9zT0a "
        "--reason keyCompromise",
    )
    @registry_dir
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument("kid", metavar="KID", callback=_kid, help="the key id (it may start with '-')")
    @click.option(
        "--reason",
        type=click.Choice(("keyCompromise", "superseded", "cessationOfOperation")),
        required=True,
        help="why: keyCompromise voids everything the key signed",
    )
    @at_option("the key is revoked from this RFC 3339 time (default: now)", hidden=False)
    def registry_revoke_key(directory: str, lab_id: str, kid: str, reason: str, at: str | None) -> int:
        from trust_registry import Registry

        reg = Registry.open(Path(directory))
        reg.revoke_lab_key(lab_id, kid, at=now(at), reason=reason)
        err(f"revoked key {kid} of {lab_id} ({reason}); publish to make it known")
        return EXIT_OK

    @registry.command(
        "mirror",
        help="Check the labs' signed status lists and keep copies to publish; warns about "
        "expired ones (the lab must republish).",
        short_help="check and keep copies of the labs' signed status lists",
        example="yilu registry mirror registries/cn labs/qdtc/status/list.jwt labs/sdmt/status/list.jwt",
    )
    @registry_dir
    @click.argument("files", metavar="FILE...", nargs=-1, required=True, help="the labs' status lists")
    @at_option()
    def registry_mirror(directory: str, files: tuple[str, ...], at: str | None) -> int:
        from trust_registry import Registry, list_warnings

        reg = Registry.open(Path(directory))
        when = now(at)
        tokens = [Path(p).read_text().strip() for p in files]
        changed = reg.mirror_status_lists(tokens, now=when)
        err(f"mirrored {len(files)} status lists ({len(changed)} changed)")
        for warning in list_warnings(status_lists=tokens, now=when):
            warn(f"{warning} (the lab must republish: yilu lab republish)")
        return EXIT_OK

    @registry.command(
        "publish",
        help="Sign the trust list with the next sequence.",
        short_help="sign the trust list with the next sequence",
        example="yilu registry publish registries/cn",
    )
    @registry_dir
    @at_option()
    def registry_publish(directory: str, at: str | None) -> int:
        from trust_registry import Registry

        _publish(Registry.open(Path(directory)), False, False, now(at), "trust list")
        return EXIT_OK

    @registry.command(
        "republish",
        help="Sign the trust list again if it expires within 10 days. Run it daily.",
        short_help="sign the trust list again if it expires within 10 days (daily)",
        example="yilu registry republish registries/cn",
    )
    @registry_dir
    @click.option("--force", is_flag=True, help=FORCE_HELP)
    @at_option()
    def registry_republish(directory: str, force: bool, at: str | None) -> int:
        from trust_registry import Registry

        _publish(Registry.open(Path(directory)), True, force, now(at), "trust list")
        return EXIT_OK

    return registry


# -- yilu root ------------------------------------------------------------------------------------


def root_group() -> Group:
    """``yilu root``: the federation root kept as a directory of files."""
    root = group(
        "root",
        help="Federation root administration: member registries, recognition agreements, the "
        "signed federation list and the offline bundles for verifiers.",
        example="yilu root admit root --registry registries/cn\nyilu root publish root",
    )
    root_dir = _dir_argument("the federation root's directory")

    @root.command(
        "init",
        help="Create the federation root with an encrypted key (passphrase from "
        "$YILU_KEY_PASSPHRASE); writes root-keys.json, the keys verifiers pin.",
        short_help="create the federation root (writes root-keys.json to pin)",
        example="YILU_KEY_PASSPHRASE=… yilu root init root --id https://federation.example",
    )
    @_dir_argument("the new root directory (empty or absent)")
    @click.option(
        "--id", "federation_id", required=True, help="the federation's id, e.g. https://federation.example"
    )
    def root_init(directory: str, federation_id: str) -> int:
        from protocol.storage import passphrase
        from trust_registry import FederationRoot

        FederationRoot.create(
            Path(directory), federation_id=federation_id, passphrase_text=passphrase(), now=now(None)
        )
        err(f"created federation root; verifiers pin {Path(directory) / 'root-keys.json'}")
        return EXIT_OK

    @root.command(
        "admit",
        help="Admit a member registry, with the lab ids it may list (by default those of its "
        "registry init); no two members may overlap. Publish to make it known.",
        short_help="admit a registry, with the lab ids it may list",
        example="yilu root admit root --registry registries/cn --lab-ids 'https://*.example.cn'",
    )
    @root_dir
    @click.option("--registry", required=True, metavar="REGDIR", help="the registry directory")
    @click.option(
        "--lab-ids",
        multiple=True,
        metavar="PATTERN",
        help="lab ids this registry may list (repeat; default: those of its registry init); "
        "no two members may overlap",
    )
    def root_admit(directory: str, registry: str, lab_ids: tuple[str, ...]) -> int:
        from trust_registry import FederationRoot, Registry

        fed = FederationRoot.open(Path(directory))
        reg = Registry.open(Path(registry))
        member = reg.member_record(since=now(None), permitted_lab_ids=list(lab_ids) or None)
        fed.admit(member)
        err(f"admitted {reg.id}; it may list lab ids {', '.join(p.text for p in member.permitted_lab_ids)}")
        return EXIT_OK

    @root.command(
        "member-status",
        help="Record a change of a member registry's status; publish to make it known.",
        short_help="record a member registry's status change",
        example="yilu root member-status root https://cnas.example.cn suspended",
    )
    @root_dir
    @click.argument("registry_id", metavar="REGISTRY-ID", help="the member registry's id")
    @click.argument("status", type=click.Choice(STATUSES), help="its new status")
    def root_member_status(directory: str, registry_id: str, status: str) -> int:
        from trust_registry import FederationRoot

        FederationRoot.open(Path(directory)).set_member_status(registry_id, status, since=now(None))
        err(f"{registry_id} is {status} from now; publish to make it known")
        return EXIT_OK

    @root.command(
        "agree",
        help="Record that a country accepts members' results for scopes; publish to make it known.",
        short_help="record that a country accepts members' results for scopes",
        example="yilu root agree root --country KZ --accepts https://cnas.example.cn \\\n"
        "    --scope food --scope chemicals",
    )
    @root_dir
    @click.option("--country", required=True, metavar="CC", help="the accepting country")
    @click.option(
        "--accepts",
        multiple=True,
        required=True,
        metavar="REGISTRY-ID",
        help="an accepted registry id (repeat)",
    )
    @click.option("--scope", multiple=True, required=True, help="an accepted scope (repeat)")
    def root_agree(directory: str, country: str, accepts: tuple[str, ...], scope: tuple[str, ...]) -> int:
        from trust_registry import FederationRoot

        fed = FederationRoot.open(Path(directory))
        fed.agree(country=country, accepts=list(accepts), scopes=list(scope), since=now(None))
        err(
            f"{country.upper()} accepts {', '.join(accepts)} for {', '.join(scope)} from now; "
            "publish to make it known"
        )
        return EXIT_OK

    @root.command(
        "publish",
        help="Sign the federation list with the next sequence.",
        short_help="sign the federation list with the next sequence",
        example="yilu root publish root",
    )
    @root_dir
    @at_option()
    def root_publish(directory: str, at: str | None) -> int:
        from trust_registry import FederationRoot

        _publish(FederationRoot.open(Path(directory)), False, False, now(at), "federation list")
        return EXIT_OK

    @root.command(
        "republish",
        help="Sign the federation list again if it expires within 10 days. Run it daily.",
        short_help="sign the federation list again if it expires within 10 days (daily)",
        example="yilu root republish root",
    )
    @root_dir
    @click.option("--force", is_flag=True, help=FORCE_HELP)
    @at_option()
    def root_republish(directory: str, force: bool, at: str | None) -> int:
        from trust_registry import FederationRoot

        _publish(FederationRoot.open(Path(directory)), True, force, now(at), "federation list")
        return EXIT_OK

    @root.command(
        "bundle",
        help="Build the signed offline bundle for verifiers from the members' lists and, with "
        "--delta-out, the delta from the previous bundle this root built (kept as "
        "DIR/published/bundle.ylb). Warns about members left out and lists devices will find "
        "expired or drop.",
        short_help="build the signed offline bundle for verifiers",
        example="yilu root bundle root --registry registries/cn --registry registries/kz \\\n"
        "    --out bundle.ylb --delta-out delta.ylb",
    )
    @root_dir
    @click.option(
        "--registry", multiple=True, required=True, metavar="REGDIR", help="a registry directory (repeat)"
    )
    @click.option(
        "--out", required=True, metavar="FILE", help="the full bundle (for devices installing from scratch)"
    )
    @click.option(
        "--delta-out",
        metavar="FILE",
        help="also write the delta from the previous bundle this root built (for devices that have it)",
    )
    @at_option()
    def root_bundle(
        directory: str, registry: tuple[str, ...], out: str, delta_out: str | None, at: str | None
    ) -> int:
        from protocol.storage import write_atomic
        from trust_registry import FederationRoot, Registry

        fed = FederationRoot.open(Path(directory))
        when = now(at)
        out_path = output_path(out)
        regs = [Registry.open(Path(r)) for r in registry]
        trust_lists = [r.trust_list_token() for r in regs]
        status_lists = [t for r in regs for t in r.status_list_tokens()]
        for warning in fed.bundle_warnings(trust_lists=trust_lists, status_lists=status_lists, now=when):
            warn(warning)
        delta_path = output_path(delta_out) if delta_out else None
        with progress("signing the bundle…"):
            full, delta = fed.build_bundle(trust_lists=trust_lists, status_lists=status_lists, now=when)
        write_atomic(out_path, full)
        err(f"wrote bundle {out} (sequence {fed.state['bundleSequence']}, {len(full)} bytes)")
        if delta_path is not None and delta is None:
            warn("no delta: this root has built no bundle before to build it from")
        elif delta_path is not None and delta is not None:
            write_atomic(delta_path, delta)
            err(f"wrote delta {delta_out} ({len(delta)} bytes)")
        return EXIT_OK

    return root


registry: Final = registry_group()
root: Final = root_group()
