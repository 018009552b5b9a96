"""``yilu registry …`` and ``yilu root …``: the registry's and the root's command lines.

Two kinds of commands (docs/operating-a-registry.md):

* **local** ones work on the service's own data directory and database, on the machine
  that runs it, with no token: ``init`` (set up, print the first admin token once),
  ``token create|list|revoke`` and ``audit verify``;
* every other command calls the running service over HTTP (``--url``, default the local
  service; ``--token`` or ``$YILU_TOKEN``), prints what changed on stderr and the result
  on stdout (``--json``: the service's JSON as is).

Errors are one line (the service's problem ``detail``) and exit 2; a service that cannot
be reached or fails is one line naming the request id to quote. yilu/cli.py composes the
``registry`` and ``root`` groups below.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from protocol.cli import (
    EXIT_OK,
    EXIT_REJECT,
    FC,
    Command,
    Group,
    UsageError,
    at_option,
    err,
    group,
    now,
    on_terminal,
    output_path,
    print_json,
    progress,
    shown,
    table,
)
from protocol.vocabulary import KEY_REVOCATION_REASONS

if TYPE_CHECKING:
    from service.client import ServiceClient

TOKEN_ENV: Final = "YILU_TOKEN"  # noqa: S105 -- the variable's name
STATUSES: Final = ("active", "suspended", "withdrawn")
ROLES: Final = ("admin", "operator", "lab")
#: Where each service listens unless told otherwise (service/settings.py, DEFAULT_PORTS).
DEFAULT_URLS: Final = {"registry": "http://127.0.0.1:8710", "root": "http://127.0.0.1:8711"}
URL_ENVS: Final = {"registry": "YILU_REGISTRY_URL", "root": "YILU_ROOT_URL"}


# -- options and helpers ----------------------------------------------------------------------------

#: A key id (11 base64url characters) may start with '-', which click would read as an
#: option: such an argument of a key command is marked so that it reaches KID.
_KID_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_KID_MARK: Final = "\x00kid:"


class _KidCommand(Command):
    """A key command: a kid that looks like an option (``-Ab3…``) is still the KID argument."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        options = {name for p in self.params for name in (*p.opts, *p.secondary_opts)}
        options.update(ctx.help_option_names)
        marked = [
            _KID_MARK + a
            if a.startswith("-") and len(a) == 11 and set(a) <= _KID_CHARS and a not in options
            else a
            for a in args
        ]
        return super().parse_args(ctx, marked)


def _kid(ctx: click.Context, param: click.Parameter, value: str) -> str:
    return value.removeprefix(_KID_MARK)


def _service_options(role: str) -> Callable[[FC], FC]:
    """``--url``, ``--token`` and ``--json`` of every command that calls the service."""

    def decorate(f: FC) -> FC:
        f = click.option(
            "--json", "as_json", is_flag=True, help="print the service's answer as JSON (for scripts)"
        )(f)
        f = click.option(
            "--token",
            envvar=TOKEN_ENV,
            metavar="TOKEN",
            help=f"bearer token (default ${TOKEN_ENV}); never printed",
        )(f)
        return click.option(
            "--url",
            envvar=URL_ENVS[role],
            default=DEFAULT_URLS[role],
            show_default=True,
            metavar="URL",
            help=f"the {role} service (or ${URL_ENVS[role]})",
        )(f)

    return decorate


def _local_options(f: FC) -> FC:
    """``--data-dir`` and ``--database-url`` of the local commands, as ``yilu serve`` takes them."""
    f = click.option(
        "--database-url",
        envvar="YILU_DATABASE_URL",
        metavar="URL",
        help="postgresql+psycopg://USER@HOST/DB (default $YILU_DATABASE_URL, "
        "else SQLite in the data directory)",
    )(f)
    return click.option(
        "--data-dir",
        envvar="YILU_DATA_DIR",
        default="yilu-data",
        show_default=True,
        metavar="DIR",
        help="the service's data directory (default $YILU_DATA_DIR): database, encrypted key",
    )(f)


def _subgroup(parent: click.Group, name: str, *, help: str, short_help: str, example: str) -> Group:
    """A sub-group (``yilu registry lab …``) of ``parent``."""
    sub = Group(name, help=help, short_help=short_help, example=example)
    parent.add_command(sub)
    return sub


#: Fetching every member's lists and building a bundle take minutes at 120,000 labs
#: (docs/performance.md, section 4): those two calls wait this long, the others 30 s.
LONG_CALL_SECONDS: Final = 900.0


def _client(url: str, token: str | None, *, timeout: float | None = None) -> ServiceClient:
    from service.client import DEFAULT_TIMEOUT, ServiceClient

    return ServiceClient(url, token=token, timeout=timeout or DEFAULT_TIMEOUT)


def _time(value: str | None, what: str) -> str | None:
    """A time option, checked here and sent as RFC 3339 (None when not given)."""
    if value is None:
        return None
    from protocol.encoding import format_time, parse_time
    from protocol.errors import YiluError

    try:
        return format_time(parse_time(value, what))
    except YiluError as exc:
        raise UsageError(str(exc)) from exc


def _lab_ref(lab_id: str) -> str:
    """A lab id as the services address it in a path: without ``https://``."""
    if not lab_id.startswith("https://"):
        raise UsageError(f"lab id {lab_id[:80]!r} must start with https://, e.g. https://qdtc.example.cn")
    return lab_id.removeprefix("https://")


def _read_text(path: str) -> str:
    """A file's text, or stdin for ``-``; one line if it cannot be read."""
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UsageError(f"cannot read {path}: it is not UTF-8 text") from None


def _names(values: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        lang, sep, name = value.partition("=")
        if not sep or not lang.strip() or not name.strip():
            raise UsageError(f"--name {value!r}: write LANG=NAME, e.g. --name en='Qingdao Testing Centre'")
        out[lang.strip()] = name.strip()
    if not out:
        raise UsageError("a lab needs a name: --name en='Qingdao Testing Centre' (repeat for zh, ru, kk)")
    return out


def _show(as_json: bool, result: Any, lines: Callable[[Any], Iterable[str]]) -> None:
    if as_json:
        print_json(result)
        return
    for line in lines(result):
        sys.stdout.write(shown(line) + "\n")


def _rows(
    as_json: bool, result: Any, title: str, columns: Sequence[str], row: Callable[[Any], Sequence[Any]]
) -> None:
    """A listing: JSON, a table on a terminal, tab-separated lines in a pipe."""
    if as_json:
        print_json(result)
        return
    if isinstance(result, list):
        items = result
    else:  # a page: {"labs": [...], "next": …}
        items = next((v for v in result.values() if isinstance(v, list)), [])
    cells = [[shown("" if c is None else c) for c in row(item)] for item in items]
    if on_terminal(sys.stdout):
        table(title, columns, cells)
    else:
        for cells_row in cells:
            sys.stdout.write("\t".join(cells_row) + "\n")


def _passphrase() -> str:
    from protocol.errors import SecretError
    from protocol.storage import PASSPHRASE_ENV, passphrase

    try:
        return passphrase()
    except SecretError as exc:
        hint = "" if PASSPHRASE_ENV in str(exc) else f" (set {PASSPHRASE_ENV})"
        raise UsageError(f"{exc}{hint}: it encrypts the new signing key") from exc


def _local_group_commands(parent: click.Group, role: str) -> None:
    """``token create|list|revoke`` and ``audit verify``: on the service's own database."""
    tokens = _subgroup(
        parent,
        "token",
        help=f"Bearer tokens of the {role} service, on its own database (run where it runs): "
        "admin (everything), operator (day-to-day changes), lab (acts for one lab only).",
        short_help="create, list and revoke bearer tokens (local)",
        example=f"yilu {role} token create ops --role operator --data-dir /srv/yilu-{role}",
    )

    @tokens.command(
        "create",
        help="Create a token and print its secret once (it is stored only as a hash).",
        short_help="create a token; its secret is shown once",
        example=f"yilu {role} token create qdtc --role lab --lab https://qdtc.example.cn",
    )
    @click.argument("name", help="a name to tell the token apart, e.g. who holds it")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="what the token may do")
    @click.option(
        "--lab", "lab_id", metavar="LAB-ID", help="the lab a lab token acts for (only with --role lab)"
    )
    @_local_options
    @at_option()
    @click.option("--json", "as_json", is_flag=True, help="print the token and its secret as JSON")
    def token_create(
        name: str,
        role: str,
        lab_id: str | None,
        data_dir: str,
        database_url: str | None,
        at: str | None,
        as_json: bool,
    ) -> int:
        from pydantic import ValidationError

        from service import tokens as service_tokens

        try:
            with _local_session(role_name, Path(data_dir), database_url) as db:
                secret, made = service_tokens.create_token(
                    session=db, name=name, role=role, lab_id=lab_id, actor="local:cli", at=now(at)
                )
        except ValidationError as exc:
            raise UsageError(
                "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            ) from None
        if as_json:
            print_json({**made.model_dump(mode="json"), "secret": secret})
        else:
            err(
                f"created {made.role.value} token {made.id} ({made.name}); "
                "keep its secret, it is not shown again:"
            )
            sys.stdout.write(secret + "\n")
        return EXIT_OK

    role_name = role

    @tokens.command(
        "list",
        help="List the tokens (never their secrets): id, name, role, lab, prefix, created, revoked.",
        short_help="list the tokens",
        example=f"yilu {role} token list --data-dir /srv/yilu-{role}",
    )
    @_local_options
    @click.option("--json", "as_json", is_flag=True, help="print the tokens as JSON")
    def token_list(data_dir: str, database_url: str | None, as_json: bool) -> int:
        from service import tokens as service_tokens

        with _local_session(role_name, Path(data_dir), database_url) as db:
            found = [t.model_dump(mode="json") for t in service_tokens.list_tokens(session=db)]
        _rows(
            as_json,
            found,
            "tokens",
            ("id", "name", "role", "lab", "prefix", "created", "revoked"),
            lambda t: (
                t["id"],
                t["name"],
                t["role"],
                t["lab_id"],
                t["prefix"],
                t["created_at"],
                t["revoked_at"],
            ),
        )
        return EXIT_OK

    @tokens.command(
        "revoke",
        help="Revoke a token: from now on it is refused (401) like an unknown one.",
        short_help="revoke a token",
        example=f"yilu {role} token revoke 3",
    )
    @click.argument("token_id", metavar="ID", type=int, help="the token's id (yilu … token list)")
    @_local_options
    @at_option()
    def token_revoke(token_id: int, data_dir: str, database_url: str | None, at: str | None) -> int:
        from service import tokens as service_tokens

        with _local_session(role_name, Path(data_dir), database_url) as db:
            try:
                done = service_tokens.revoke_token(
                    session=db, token_id=token_id, actor="local:cli", at=now(at)
                )
            except LookupError:
                raise UsageError(f"no token {token_id}: see yilu {role_name} token list") from None
        err(f"revoked token {done.id} ({done.name})")
        return EXIT_OK

    audit_group = _subgroup(
        parent,
        "audit",
        help=f"The {role} service's audit log: every change, who made it and when, hash-chained.",
        short_help="check the audit log (local)",
        example=f"yilu {role} audit verify --data-dir /srv/yilu-{role}",
    )

    @audit_group.command(
        "verify",
        help="Recompute every hash and link of the audit log: exit 0 when intact, 1 naming "
        "each changed, removed or reordered row. Compare the printed head with one kept elsewhere "
        "to detect removed last rows.",
        short_help="detect a changed or removed audit row",
        example=f"yilu {role} audit verify --data-dir /srv/yilu-{role}",
    )
    @_local_options
    @click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
    def audit_verify(data_dir: str, database_url: str | None, as_json: bool) -> int:
        from service import audit

        with _local_session(role_name, Path(data_dir), database_url) as db:
            problems = audit.verify_chain(session=db)
            head = audit.head(session=db)
        result = {
            "intact": not problems,
            "problems": problems,
            "head": None if head is None else {"seq": head[0], "hash": head[1]},
        }
        if as_json:
            print_json(result)
        elif problems:
            for problem in problems:
                sys.stdout.write(shown(problem) + "\n")
            err(f"the audit log is NOT intact: {len(problems)} problem(s)")
        else:
            where = "empty" if head is None else f"{head[0]} entries, head {head[1]}"
            sys.stdout.write(f"audit log intact: {where}\n")
        return EXIT_OK if not problems else EXIT_REJECT


class _local_session:  # used like a function: ``with _local_session(...) as db``
    """A session on a role's own database (migrated first), closed afterwards."""

    def __init__(self, role: str, data_dir: Path, database_url: str | None) -> None:
        self.role, self.data_dir, self.database_url = role, data_dir, database_url

    def __enter__(self) -> Any:
        from service.db import make_engine, migrate

        if self.database_url is None and not (self.data_dir / "service.db").exists():
            raise UsageError(
                f"no {self.role} in {self.data_dir}: run yilu {self.role} init there first "
                "(or give --data-dir / --database-url)"
            )
        if self.role == "registry":
            from trust_registry.registry import REGISTRY_MIGRATIONS as tree
        else:
            from trust_registry._root_domain import ROOT_MIGRATIONS as tree
        self.engine = make_engine(self.database_url, data_dir=self.data_dir)
        migrate(self.engine, tree)
        from service.db import session

        self._cm = session(self.engine)
        return self._cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        try:
            self._cm.__exit__(*exc)
        finally:
            self.engine.dispose()


# -- yilu registry ----------------------------------------------------------------------------------


def registry_group() -> click.Group:
    """``yilu registry``: set up a registry (local) and run it over HTTP."""
    registry = group(
        "registry",
        help="Registry (accreditation body) administration: set it up, its labs, their scopes, "
        "status and keys, the labs' status lists and its signed trust list. `init`, `token` and "
        "`audit` work on the service's own data; the others call `yilu serve registry` over HTTP.",
        example="yilu registry init --id https://cnas.example.cn --country CN --body CNAS \\\n"
        "    --url https://cnas.example.cn/yilu --lab-ids 'https://*.example.cn'\n"
        "yilu serve registry &\n"
        "yilu registry lab add https://qdtc.example.cn --name en='Qingdao Testing' --country CN \\\n"
        "    --number CNAS-L0001 --scope food",
    )
    service = _service_options("registry")

    @registry.command(
        "init",
        help="Set up a registry in its data directory: its identity, the lab ids it will list "
        "(the root admits it with them), its signing key (encrypted with $YILU_KEY_PASSPHRASE, "
        "at least 12 characters) and the first admin token, printed once on stdout.",
        short_help="set up a registry; print its first admin token",
        example="YILU_KEY_PASSPHRASE='…' yilu registry init --data-dir /srv/yilu-registry \\\n"
        "    --id https://cnas.example.cn --country CN --body CNAS \\\n"
        "    --url https://cnas.example.cn/yilu --lab-ids 'https://*.example.cn'",
    )
    @click.option(
        "--id", "registry_id", required=True, help="the registry's id, e.g. https://cnas.example.cn"
    )
    @click.option("--country", required=True, metavar="CC", help="its country (ISO 3166-1 alpha-2), e.g. CN")
    @click.option("--body", required=True, help="the accreditation body's name, e.g. CNAS")
    @click.option(
        "--url", required=True, help="where its lists are published (https://), the root fetches there"
    )
    @click.option(
        "--lab-ids",
        multiple=True,
        required=True,
        metavar="PATTERN",
        help="lab ids it will list, e.g. 'https://*.example.cn' (repeat)",
    )
    @_local_options
    @at_option()
    def registry_init(
        registry_id: str,
        country: str,
        body: str,
        url: str,
        lab_ids: tuple[str, ...],
        data_dir: str,
        database_url: str | None,
        at: str | None,
    ) -> int:
        from trust_registry.registry import init_registry

        secret = init_registry(
            data_dir=Path(data_dir),
            database_url=database_url,
            registry_id=registry_id,
            country=country,
            accreditation_body=body,
            publication_url=url,
            lab_ids=list(lab_ids),
            passphrase=_passphrase(),
            now=now(at),
        )
        err(f"registry {registry_id} set up in {data_dir}; its first admin token (shown once, keep it):")
        sys.stdout.write(secret + "\n")
        return EXIT_OK

    _local_group_commands(registry, "registry")

    @registry.command(
        "show",
        help="What the registry says of itself (GET /registry): id, country, body, publication "
        "URL, lab ids, public keys — what the root admits it with.",
        short_help="the registry's identity and keys",
        example="yilu registry show --url http://127.0.0.1:8710",
    )
    @service
    def registry_show(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            doc = client.get_json("/registry")
        _show(as_json, doc, lambda d: [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in d.items()])
        return EXIT_OK

    labs = _subgroup(
        registry,
        "lab",
        help="The labs the registry accredits: add, list, show, scopes (with dates), status changes.",
        short_help="accredited labs, their scopes and status",
        example="yilu registry lab list",
    )

    @labs.command(
        "add",
        help="Accredit a lab: its id (inside the registry's lab ids), names in several languages, "
        "country, accreditation number, scopes and the date it was accredited. Its keys come "
        "later, each with proof of possession (yilu registry key submit).",
        short_help="accredit a lab",
        example="yilu registry lab add https://qdtc.example.cn --name en='Qingdao Testing' \\\n"
        "    --name zh='青岛检测中心' --country CN --number CNAS-L0001 --scope food --scope chemicals",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id, e.g. https://qdtc.example.cn")
    @click.option(
        "--name",
        "names",
        multiple=True,
        required=True,
        metavar="LANG=NAME",
        help="a name with its language tag, e.g. en='Qingdao Testing' (repeat)",
    )
    @click.option("--country", required=True, metavar="CC", help="the lab's country (ISO 3166-1 alpha-2)")
    @click.option("--number", required=True, help="its accreditation number, e.g. CNAS-L0001")
    @click.option(
        "--scope",
        "scopes",
        multiple=True,
        metavar="CATEGORY",
        help="a scope category of the vocabulary, e.g. food (repeat)",
    )
    @click.option("--since", metavar="TIME", help="accredited since (RFC 3339; default now)")
    @service
    def lab_add(
        lab_id: str,
        names: tuple[str, ...],
        country: str,
        number: str,
        scopes: tuple[str, ...],
        since: str | None,
        url: str,
        token: str | None,
        as_json: bool,
    ) -> int:
        from protocol.encoding import format_time

        when = _time(since, "--since") or format_time(now(None))
        body = {
            "id": lab_id,
            "names": _names(names),
            "country": country,
            "accreditationNumber": number,
            "scopes": [{"category": s, "since": when} for s in scopes],
            "accreditedSince": when,
        }
        with _client(url, token) as client:
            made = client.post_json("/labs", body)
        err(f"accredited {lab_id} for {', '.join(scopes) or 'no scope yet'} from {when}")
        _show(as_json, made, lambda m: [m.get("id", lab_id)])
        return EXIT_OK

    @labs.command(
        "list",
        help="The labs, by id (a page at a time: --after the last id shown).",
        short_help="list the labs",
        example="yilu registry lab list --limit 50",
    )
    @click.option("--after", metavar="LAB-ID", help="start after this lab id (the next page)")
    @click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="how many")
    @service
    def lab_list(after: str | None, limit: int, url: str, token: str | None, as_json: bool) -> int:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        with _client(url, token) as client:
            found = client.get_json("/labs", **params)
        _rows(as_json, found, "labs", ("id", "name", "country", "number", "status"), _lab_row)
        if not as_json and found.get("next"):
            err(f"more labs: yilu registry lab list --after {found['next']}")
        return EXIT_OK

    @labs.command(
        "show",
        help="One lab as the registry holds it: names, scopes with their dates, status history, keys.",
        short_help="one lab in full",
        example="yilu registry lab show https://qdtc.example.cn",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @service
    def lab_show(lab_id: str, url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            lab = client.get_json(f"/labs/{_lab_ref(lab_id)}")
        _show(as_json, lab, lambda d: [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in d.items()])
        return EXIT_OK

    @labs.command(
        "scope-add",
        help="Accredit a lab for one more scope from a date (a new period of its scope history).",
        short_help="add a scope from a date",
        example="yilu registry lab scope-add https://qdtc.example.cn textiles --since 2026-12-01T00:00:00Z",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument("category", help="a scope category of the vocabulary, e.g. textiles")
    @click.option("--standard", "standards", multiple=True, help="a standard the scope covers (repeat)")
    @click.option("--since", metavar="TIME", help="effective from (RFC 3339; default now)")
    @service
    def scope_add(
        lab_id: str,
        category: str,
        standards: tuple[str, ...],
        since: str | None,
        url: str,
        token: str | None,
        as_json: bool,
    ) -> int:
        body: dict[str, Any] = {"category": category, "standards": list(standards)}
        if since:
            body["since"] = _time(since, "--since")
        with _client(url, token) as client:
            lab = client.post_json(f"/labs/{_lab_ref(lab_id)}/scopes", body)
        err(f"{lab_id} accredited for {category} from {body.get('since', 'now')}")
        _show(as_json, lab, lambda d: [d.get("id", lab_id)])
        return EXIT_OK

    @labs.command(
        "scope-end",
        help="End a lab's scope at a date: certificates issued before it still verify "
        "(SCOPE_NOT_ACCREDITED is judged at a certificate's validFrom).",
        short_help="end a scope at a date",
        example="yilu registry lab scope-end https://qdtc.example.cn chemicals --until 2026-12-31T23:59:59Z",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument("category", help="the scope category to end")
    @click.option("--until", metavar="TIME", help="last moment in force (RFC 3339; default now)")
    @service
    def scope_end(
        lab_id: str, category: str, until: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        body = {"until": _time(until, "--until")} if until else {}
        with _client(url, token) as client:
            lab = client.post_json(f"/labs/{_lab_ref(lab_id)}/scopes/{category}/end", body)
        err(f"{lab_id}: {category} ends {until or 'now'}")
        _show(as_json, lab, lambda d: [d.get("id", lab_id)])
        return EXIT_OK

    @labs.command(
        "status",
        help="Record a lab's accreditation status from a date (append only). Suspending or "
        "withdrawing ends its keys' validity at that date; --for-cause voids everything it "
        "ever signed and is final.",
        short_help="suspend, withdraw or reinstate a lab",
        example="yilu registry lab status https://qdtc.example.cn suspended --since 2026-12-01T00:00:00Z",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument("status", type=click.Choice(STATUSES), help="the new status")
    @click.option("--since", metavar="TIME", help="effective from (RFC 3339; default now)")
    @click.option("--for-cause", is_flag=True, help="a withdrawal for cause: everything it signed is void")
    @service
    def lab_status(
        lab_id: str,
        status: str,
        since: str | None,
        for_cause: bool,
        url: str,
        token: str | None,
        as_json: bool,
    ) -> int:
        body: dict[str, Any] = {"status": status, "forCause": for_cause}
        if since:
            body["since"] = _time(since, "--since")
        with _client(url, token) as client:
            lab = client.post_json(f"/labs/{_lab_ref(lab_id)}/status", body)
        err(f"{lab_id} is {status}{' for cause' if for_cause else ''} from {body.get('since', 'now')}")
        _show(as_json, lab, lambda d: [d.get("id", lab_id)])
        return EXIT_OK

    @registry.command(
        "import",
        help="Import labs in bulk from CSV or JSON (by the file's extension): all or nothing, "
        "each bad row named. Columns: id, name_en, name_zh, name_ru, name_kk, country, "
        "accreditation_number, scopes (separated by ;), accredited_since, key_jwk (optional).",
        short_help="import labs from CSV or JSON (admin)",
        example="yilu registry import cnas-labs.csv",
    )
    @click.argument("file", help="a .csv or .json file")
    @service
    def registry_import(file: str, url: str, token: str | None, as_json: bool) -> int:
        suffix = Path(file).suffix.lower()
        if suffix not in (".csv", ".json"):
            raise UsageError(f"{file}: give a .csv or a .json file")
        content = _read_text(file).encode()
        media = "text/csv" if suffix == ".csv" else "application/json"
        with _client(url, token, timeout=LONG_CALL_SECONDS) as client, progress(f"importing {file}"):
            answer = client.request("POST", "/labs/import", content=content, headers={"Content-Type": media})
            result = answer.json()
        err(f"imported {result.get('labs', 0)} labs and {result.get('keys', 0)} keys from {file}")
        _show(as_json, result, lambda r: [json.dumps(r, ensure_ascii=False)])
        return EXIT_OK

    keys = _subgroup(
        registry,
        "key",
        help="Lab keys: a lab submits a key request signed by the key itself (proof of "
        "possession, made with `yilu lab key-request`); an operator approves it. Retire a key "
        "at a date, or revoke it (keyCompromise voids everything it signed; superseded does not).",
        short_help="lab keys: submit, approve, retire, revoke",
        example="yilu lab key-request --lab labs/qdtc > qdtc-key.jwt\n"
        "yilu registry key submit https://qdtc.example.cn qdtc-key.jwt\n"
        "yilu registry key approve https://qdtc.example.cn KID",
    )

    @keys.command(
        "submit",
        help="Submit a lab's key request (a JWS the key signed itself); it waits, pending, for "
        "an operator's approval. A lab token may submit for its own lab only.",
        short_help="submit a key request (pending)",
        example="yilu registry key submit https://qdtc.example.cn qdtc-key.jwt",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @click.argument(
        "request_file", metavar="FILE", help="the key request (yilu lab key-request), or - for stdin"
    )
    @service
    def key_submit(lab_id: str, request_file: str, url: str, token: str | None, as_json: bool) -> int:
        request = _read_text(request_file).strip()
        with _client(url, token) as client:
            made = client.post_json(f"/labs/{_lab_ref(lab_id)}/keys", {"request": request})
        err(f"key {made.get('kid', '?')} of {lab_id} submitted; it waits for an operator's approval")
        _show(as_json, made, lambda m: [m.get("kid", "")])
        return EXIT_OK

    @keys.command(
        "pending",
        help="Key requests waiting for approval, with the scopes each lab will sign.",
        short_help="key requests waiting for approval",
        example="yilu registry key pending",
    )
    @service
    def key_pending(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            found = client.get_json("/keys/pending")
        _rows(as_json, found, "pending keys", ("lab", "kid", "scopes", "submitted"), _pending_row)
        return EXIT_OK

    @keys.command(
        "list",
        help="A lab's keys with their state, validity and revocation.",
        short_help="a lab's keys",
        example="yilu registry key list https://qdtc.example.cn",
    )
    @click.argument("lab_id", metavar="LAB-ID", help="the lab's id")
    @service
    def key_list(lab_id: str, url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            found = client.get_json(f"/labs/{_lab_ref(lab_id)}/keys")
        _rows(
            as_json, found, f"keys of {lab_id}", ("lab", "kid", "state", "from", "until", "revoked"), _key_row
        )
        return EXIT_OK

    def _key_action(
        action: str, help_text: str, example: str, extra: Sequence[Callable[[FC], FC]] = ()
    ) -> None:
        def command(lab_id: str, kid: str, url: str, token: str | None, as_json: bool, **options: Any) -> int:
            body = {k: v for k, v in options.items() if v is not None}
            for name in ("validFrom", "until", "at"):
                if name in body:
                    body[name] = _time(body[name], f"--{name}")
            with _client(url, token) as client:
                done = client.post_json(f"/labs/{_lab_ref(lab_id)}/keys/{kid}/{action}", body)
            err(
                f"key {kid} of {lab_id}: {action}d"
                if action.endswith("e")
                else f"key {kid} of {lab_id}: {action}ed"
            )
            if as_json:
                print_json(done)
            else:  # the key's row, as `yilu registry key list` prints it
                _rows(
                    False, [done], f"key {kid}", ("lab", "kid", "state", "from", "until", "revoked"), _key_row
                )
            return EXIT_OK

        wrapped: Any = command
        decorators: tuple[Callable[[Any], Any], ...] = (
            *extra,
            service,
            click.argument("kid", metavar="KID", callback=_kid, help="the key id (yilu registry key list)"),
            click.argument("lab_id", metavar="LAB-ID", help="the lab's id"),
        )
        for decorate in decorators:
            wrapped = decorate(wrapped)
        keys.command(
            action,
            cls=_KidCommand,
            help=help_text,
            short_help=help_text.split(":")[0].split(".")[0],
            example=example,
        )(wrapped)

    _key_action(
        "approve",
        "Approve a pending key: from then (or --valid-from) it signs for the lab.",
        "yilu registry key approve https://qdtc.example.cn KID",
        (
            click.option(
                "--valid-from", "validFrom", metavar="TIME", help="valid from (RFC 3339; default now)"
            ),
        ),
    )
    _key_action(
        "reject",
        "Reject a pending key: it is never listed.",
        "yilu registry key reject https://qdtc.example.cn KID",
    )
    _key_action(
        "retire",
        "Retire a key at a date: what it signed before stays valid (a rotation's last step).",
        "yilu registry key retire https://qdtc.example.cn KID --until 2027-01-01T00:00:00Z",
        (click.option("--until", metavar="TIME", help="last moment it may sign (RFC 3339; default now)"),),
    )
    _key_action(
        "revoke",
        "Revoke a key with a reason: keyCompromise voids everything it ever signed.",
        "yilu registry key revoke https://qdtc.example.cn KID --reason keyCompromise",
        (
            click.option(
                "--reason",
                required=True,
                type=click.Choice(KEY_REVOCATION_REASONS),
                help="why",
            ),
            click.option("--at", metavar="TIME", help="revoked at (RFC 3339; default now)"),
        ),
    )

    @registry.command(
        "push",
        help="Hand the registry a lab's signed status lists (yilu lab writes them in its "
        "directory under status/); each is checked: signed by a current key of its lab, not "
        "older than the copy kept, no revocation cleared. All or nothing.",
        short_help="mirror labs' signed status lists",
        example="yilu registry push labs/qdtc/status/*.jwt",
    )
    @click.argument("files", nargs=-1, required=True, metavar="FILE...", help="signed status list files")
    @service
    def registry_push(files: tuple[str, ...], url: str, token: str | None, as_json: bool) -> int:
        lists = [_read_text(f).strip() for f in files]
        with _client(url, token) as client:
            result = client.request("PUT", "/status-lists", json={"lists": lists}).json()
        changed = result.get("changed", [])
        err(f"{len(changed)} status list(s) changed" if changed else "status lists already up to date")
        _show(as_json, result, lambda r: list(r.get("changed", [])))
        return EXIT_OK

    @registry.command(
        "publish",
        help="Sign the trust list now with the next sequence (the service also signs pending "
        "changes every minute and renews the list before it expires without anyone acting).",
        short_help="sign the trust list now",
        example="yilu registry publish",
    )
    @service
    def registry_publish(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            done = client.post_json("/trust-list/publish")
        err(
            f"published trust list {done.get('sequence')} "
            f"(valid until {done.get('expiresAt', done.get('expires_at'))})"
        )
        _show(as_json, done, lambda d: [str(d.get("sequence"))])
        return EXIT_OK

    return registry


def _lab_row(lab: dict[str, Any]) -> Sequence[Any]:
    names = lab.get("names") or {}
    status = lab.get("status") or []
    last = status[-1].get("status") if status and isinstance(status[-1], dict) else ""
    return (
        lab.get("id"),
        names.get("en") or next(iter(names.values()), ""),
        lab.get("country"),
        lab.get("accreditationNumber"),
        last,
    )


def _key_row(key: dict[str, Any]) -> Sequence[Any]:
    return (
        key.get("labId"),
        key.get("kid"),
        key.get("state"),
        key.get("validFrom"),
        key.get("validUntil"),
        key.get("revokedAt"),
    )


def _pending_row(key: dict[str, Any]) -> Sequence[Any]:
    return (key.get("labId"), key.get("kid"), ", ".join(key.get("scopes") or ()), key.get("requestedAt"))


# -- yilu root ----------------------------------------------------------------------------------------


def root_group() -> click.Group:
    """``yilu root``: set up the federation root (local) and run it over HTTP."""
    root = group(
        "root",
        help="Federation root administration: member registries and the lab ids each may list, "
        "their keys and status, recognition agreements, the signed federation list, root key "
        "rotation and offline bundles. `init`, `token` and `audit` work on the service's own "
        "data; the others call `yilu serve root` over HTTP.",
        example="yilu root init --id https://federation.example\n"
        "yilu serve root &\n"
        "yilu root member admit https://cnas.example.cn/yilu/registry --lab-ids 'https://*.example.cn'",
    )
    service = _service_options("root")

    @root.command(
        "init",
        help="Set up the federation root in its data directory: its signing key (encrypted with "
        "$YILU_KEY_PASSPHRASE), root-keys.json (what devices pin) and the first admin token, "
        "printed once on stdout.",
        short_help="set up the root; print its first admin token",
        example="YILU_KEY_PASSPHRASE='…' yilu root init --id https://federation.example \\\n"
        "    --data-dir /srv/yilu-root",
    )
    @click.option(
        "--id", "federation_id", required=True, help="the federation's id, e.g. https://federation.example"
    )
    @_local_options
    @at_option()
    def root_init(federation_id: str, data_dir: str, database_url: str | None, at: str | None) -> int:
        from trust_registry.root import init_root

        secret = init_root(
            data_dir=Path(data_dir),
            database_url=database_url,
            federation_id=federation_id,
            passphrase=_passphrase(),
            now=now(at),
        )
        from protocol.keys import VerifyKey
        from protocol.storage import read_json

        pins = Path(data_dir) / "root-keys.json"
        kids = ", ".join(VerifyKey.from_jwk(k).kid for k in read_json(pins))
        err(
            f"root {federation_id} set up in {data_dir}; devices pin {pins} (root key {kids}: "
            "compare it with what `yilu trust show` prints on a device); its first admin token "
            "(shown once, keep it):"
        )
        sys.stdout.write(secret + "\n")
        return EXIT_OK

    _local_group_commands(root, "root")

    @root.command(
        "show",
        help="The root's identity: federation id, root keys and version, what is published, "
        "unpublished changes, the last bundle.",
        short_help="the root's state",
        example="yilu root show",
    )
    @service
    def root_show(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            doc = client.get_json("/root")
        _show(as_json, doc, lambda d: [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in d.items()])
        return EXIT_OK

    members = _subgroup(
        root,
        "member",
        help="Member registries: admit one (from the document it serves, or a saved copy), the "
        "lab ids it may list (no two members' may overlap), its keys and status history.",
        short_help="member registries",
        example="yilu root member admit https://cnas.example.cn/yilu/registry --lab-ids 'https://*.example.cn'",
    )

    @members.command(
        "admit",
        help="Admit a registry from its GET /registry document (a URL, or a file saved from it "
        "with `yilu registry show --json`), with the lab ids the root lets it list.",
        short_help="admit a registry",
        example="yilu root member admit https://cnas.example.cn/yilu/registry --lab-ids 'https://*.example.cn'",
    )
    @click.argument("source", metavar="URL|FILE", help="the registry's /registry URL or a saved copy")
    @click.option(
        "--lab-ids",
        multiple=True,
        metavar="PATTERN",
        help="the lab ids it may list (repeat; default: those it claims)",
    )
    @click.option("--since", metavar="TIME", help="a member from (RFC 3339; default now)")
    @service
    def member_admit(
        source: str, lab_ids: tuple[str, ...], since: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        since_text = _time(since, "--since")
        with _client(url, token) as client:
            if source.startswith(("https://", "http://")):
                body: dict[str, Any] = {
                    "url": source,
                    "labIds": list(lab_ids) or None,
                    "activeSince": since_text,
                }
                made = client.post_json("/members/from-url", body)
            else:
                try:
                    doc = json.loads(_read_text(source))
                except ValueError as exc:
                    raise UsageError(f"{source} is not JSON: save it with yilu registry show --json") from exc
                if not isinstance(doc, dict):
                    raise UsageError(f"{source} is not a registry document (yilu registry show --json)")
                body = {
                    "id": doc.get("id"),
                    "country": doc.get("country"),
                    "accreditationBody": doc.get("accreditationBody"),
                    "publicationUrl": doc.get("publicationUrl"),
                    "keys": [
                        {
                            "jwk": k.get("jwk", k),
                            **({"validFrom": k["validFrom"]} if "validFrom" in k else {}),
                        }
                        for k in doc.get("keys", [])
                        if isinstance(k, dict)
                    ],
                    "labIds": list(lab_ids) or doc.get("labIds", []),
                    "activeSince": since_text,
                }
                made = client.post_json("/members", body)
        err(
            f"admitted {made.get('id')} as member {made.get('number')} "
            f"for {', '.join(made.get('labIds', []))}"
        )
        _show(as_json, made, lambda m: [str(m.get("number"))])
        return EXIT_OK

    @members.command(
        "list",
        help="The member registries: number, id, country, body, lab ids, status.",
        short_help="list the members",
        example="yilu root member list",
    )
    @service
    def member_list(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            found = client.get_json("/members")
        _rows(
            as_json, found, "members", ("number", "id", "country", "body", "lab ids", "status"), _member_row
        )
        return EXIT_OK

    @members.command(
        "status",
        help="Record a member's status from a date (append only): suspended or withdrawn "
        "members' labs are not recognised for what they issue from then on.",
        short_help="suspend, withdraw or reinstate a member",
        example="yilu root member status 2 suspended --since 2026-12-01T00:00:00Z",
    )
    @click.argument("number", type=int, help="the member's number (yilu root member list)")
    @click.argument("status", type=click.Choice(STATUSES), help="the new status")
    @click.option("--since", metavar="TIME", help="effective from (RFC 3339; default now)")
    @service
    def member_status(
        number: int, status: str, since: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        from protocol.encoding import format_time

        body = {"status": status, "since": _time(since, "--since") or format_time(now(None))}
        with _client(url, token) as client:
            done = client.post_json(f"/members/{number}/status", body)
        err(f"member {number} is {status} from {body['since']}")
        _show(as_json, done, lambda d: [str(d.get("id", number))])
        return EXIT_OK

    @members.command(
        "key-add",
        help="Add a key of a member registry (its key rotation: the registry's new public "
        "JWK, e.g. from its GET /registry document), valid from a date.",
        short_help="add a member registry's key",
        example="yilu root member key-add 1 cnas-new-key.json --from 2027-01-01T00:00:00Z",
    )
    @click.argument("number", type=int, help="the member's number (yilu root member list)")
    @click.argument("jwk_file", metavar="JWK-FILE", help="the public JWK as JSON, or - for stdin")
    @click.option("--from", "since", metavar="TIME", help="valid from (RFC 3339; default now)")
    @service
    def member_key_add(
        number: int, jwk_file: str, since: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        try:
            jwk = json.loads(_read_text(jwk_file))
        except ValueError as exc:
            raise UsageError(f"{jwk_file} is not JSON: give the registry's public JWK") from exc
        body: dict[str, Any] = {"jwk": jwk.get("jwk", jwk) if isinstance(jwk, dict) else jwk}
        if since:
            body["validFrom"] = _time(since, "--from")
        with _client(url, token) as client:
            member = client.post_json(f"/members/{number}/keys", body)
        kid = next((k.get("kid") for k in member.get("keys", []) if k.get("jwk") == body["jwk"]), "?")
        err(f"member {number}: key {kid} added")
        _show(as_json, member, lambda m: [str(kid)])
        return EXIT_OK

    @members.command(
        "key-retire",
        cls=_KidCommand,
        help="Retire a member registry's key at a date: what it signed before stays valid.",
        short_help="retire a member registry's key",
        example="yilu root member key-retire 1 KID --until 2027-01-01T00:00:00Z",
    )
    @click.argument("number", type=int, help="the member's number")
    @click.argument("kid", metavar="KID", callback=_kid, help="the key id")
    @click.option("--until", metavar="TIME", help="last moment it may sign (RFC 3339; default now)")
    @service
    def member_key_retire(
        number: int, kid: str, until: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        from protocol.encoding import format_time

        body = {"until": _time(until, "--until") or format_time(now(None))}
        with _client(url, token) as client:
            done = client.post_json(f"/members/{number}/keys/{kid}/retire", body)
        err(f"member {number}: key {kid} retired at {body['until']}")
        _show(as_json, done, lambda d: [str(d.get("kid", kid))])
        return EXIT_OK

    @members.command(
        "key-revoke",
        cls=_KidCommand,
        help="Revoke a member registry's key with a reason: keyCompromise voids every trust "
        "list it signed, so devices drop them until the registry signs with a new key.",
        short_help="revoke a member registry's key",
        example="yilu root member key-revoke 1 KID --reason keyCompromise",
    )
    @click.argument("number", type=int, help="the member's number")
    @click.argument("kid", metavar="KID", callback=_kid, help="the key id")
    @click.option(
        "--reason",
        required=True,
        type=click.Choice(KEY_REVOCATION_REASONS),
        help="why",
    )
    @click.option("--at", metavar="TIME", help="revoked at (RFC 3339; default now)")
    @service
    def member_key_revoke(
        number: int, kid: str, reason: str, at: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        from protocol.encoding import format_time

        body = {"reason": reason, "at": _time(at, "--at") or format_time(now(None))}
        with _client(url, token) as client:
            done = client.post_json(f"/members/{number}/keys/{kid}/revoke", body)
        err(f"member {number}: key {kid} revoked ({reason})")
        _show(as_json, done, lambda d: [str(d.get("kid", kid))])
        return EXIT_OK

    @members.command(
        "lab-ids",
        help="Set the lab ids a member may list (the binding rule); refused if they overlap "
        "another member's.",
        short_help="set the lab ids a member may list",
        example="yilu root member lab-ids 2 'https://*.example.cn' 'https://*.example.hk'",
    )
    @click.argument("number", type=int, help="the member's number")
    @click.argument("patterns", nargs=-1, required=True, metavar="PATTERN...", help="lab id patterns")
    @service
    def member_lab_ids(
        number: int, patterns: tuple[str, ...], url: str, token: str | None, as_json: bool
    ) -> int:
        with _client(url, token) as client:
            done = client.put_json(f"/members/{number}/lab-ids", {"labIds": list(patterns)})
        err(f"member {number} may list {', '.join(patterns)}")
        _show(as_json, done, lambda d: [str(d.get("id", number))])
        return EXIT_OK

    agreements = _subgroup(
        root,
        "agreement",
        help="Recognition agreements: a country accepts some members' results for some scopes "
        "from a date (until a date). Never deleted: ended.",
        short_help="recognition agreements",
        example="yilu root agreement add --country KZ --accepts https://cnas.example.cn --scope food",
    )

    @agreements.command(
        "add",
        help="Record that a country accepts members' results for scopes, for certificates "
        "issued from --from (until --until).",
        short_help="record an agreement",
        example="yilu root agreement add --country KZ --accepts https://cnas.example.cn --scope food \\\n"
        "    --from 2026-01-01T00:00:00Z",
    )
    @click.option("--country", required=True, metavar="CC", help="the accepting country (ISO 3166-1 alpha-2)")
    @click.option(
        "--accepts",
        multiple=True,
        required=True,
        metavar="REGISTRY-ID",
        help="a member registry whose results it accepts (repeat)",
    )
    @click.option(
        "--scope", "scopes", multiple=True, required=True, metavar="CATEGORY", help="a scope (repeat)"
    )
    @click.option("--from", "since", metavar="TIME", help="from (RFC 3339; default now)")
    @click.option("--until", metavar="TIME", help="until (RFC 3339; default open-ended)")
    @service
    def agreement_add(
        country: str,
        accepts: tuple[str, ...],
        scopes: tuple[str, ...],
        since: str | None,
        until: str | None,
        url: str,
        token: str | None,
        as_json: bool,
    ) -> int:
        from protocol.encoding import format_time

        body = {
            "country": country,
            "accepts": list(accepts),
            "scopes": list(scopes),
            "from": _time(since, "--from") or format_time(now(None)),
            "until": _time(until, "--until"),
        }
        with _client(url, token) as client:
            made = client.post_json("/agreements", body)
        err(f"agreement {made.get('id')}: {country} accepts {', '.join(accepts)} for {', '.join(scopes)}")
        _show(as_json, made, lambda m: [str(m.get("id"))])
        return EXIT_OK

    @agreements.command(
        "list",
        help="The agreements, ended ones included.",
        short_help="list the agreements",
        example="yilu root agreement list",
    )
    @service
    def agreement_list(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            found = client.get_json("/agreements")
        _rows(
            as_json,
            found,
            "agreements",
            ("id", "country", "accepts", "scopes", "from", "until"),
            lambda a: (
                a.get("id"),
                a.get("country"),
                " ".join(a.get("accepts", [])),
                " ".join(a.get("scopes", [])),
                a.get("from"),
                a.get("until"),
            ),
        )
        return EXIT_OK

    @agreements.command(
        "end",
        help="End an agreement at a date: certificates issued after it are not recognised under it.",
        short_help="end an agreement",
        example="yilu root agreement end 3 --until 2027-06-30T23:59:59Z",
    )
    @click.argument("agreement_id", metavar="ID", type=int, help="the agreement's id")
    @click.option("--until", metavar="TIME", help="last moment in force (RFC 3339; default now)")
    @service
    def agreement_end(
        agreement_id: int, until: str | None, url: str, token: str | None, as_json: bool
    ) -> int:
        from protocol.encoding import format_time

        body = {"until": _time(until, "--until") or format_time(now(None))}
        with _client(url, token) as client:
            done = client.post_json(f"/agreements/{agreement_id}/end", body)
        err(f"agreement {agreement_id} ends {body['until']}")
        _show(as_json, done, lambda d: [str(d.get("id"))])
        return EXIT_OK

    @root.command(
        "publish",
        help="Sign the federation list now with the next sequence (the service also signs "
        "pending changes every minute and renews the list before it expires).",
        short_help="sign the federation list now",
        example="yilu root publish",
    )
    @service
    def root_publish(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            done = client.post_json("/federation-list/publish")
        err(f"published federation list {done.get('sequence')} (valid until {done.get('expiresAt')})")
        _show(as_json, done, lambda d: [str(d.get("sequence"))])
        return EXIT_OK

    @root.command(
        "fetch",
        help="Fetch every active member's trust list and status lists from where it publishes "
        "them; each is checked against the member's keys and lab ids before it is kept.",
        short_help="fetch the members' lists",
        example="yilu root fetch",
    )
    @service
    def root_fetch(url: str, token: str | None, as_json: bool) -> int:
        with (
            _client(url, token, timeout=LONG_CALL_SECONDS) as client,
            progress("fetching the members' lists"),
        ):
            result = client.post_json("/fetch")
        for problem in _problems_of(result):
            err(f"yilu: warning: {shown(problem)}")
        dropped = result.get("dropped") or []
        err(
            f"fetched the members' lists: {result.get('kept', 0)} new or changed, "
            f"{result.get('unchanged', 0)} unchanged, {len(dropped)} dropped"
        )
        if as_json:
            print_json(result)
        return EXIT_OK

    @root.command(
        "bundle",
        help="Build the next offline bundle from the published federation list and the members' "
        "lists kept, and download it (and the delta from the previous one). Refused while the "
        "federation list has unpublished changes.",
        short_help="build and download an offline bundle",
        example="yilu root bundle --out bundle.ylb --delta-out bundle-delta.ylb",
    )
    @click.option("--out", required=True, metavar="FILE", help="where to write the bundle (.ylb)")
    @click.option("--delta-out", metavar="FILE", help="where to write the delta from the previous bundle")
    @service
    def root_bundle(out: str, delta_out: str | None, url: str, token: str | None, as_json: bool) -> int:
        from protocol.storage import write_atomic

        target = output_path(out)
        delta_target = output_path(delta_out) if delta_out else None
        with _client(url, token, timeout=LONG_CALL_SECONDS) as client, progress("building the bundle"):
            made = client.post_json("/bundles")
            sequence = made.get("sequence")
            write_atomic(target, client.request("GET", f"/bundles/{sequence}").content)
            if delta_target is not None and made.get("deltaSize") is not None:
                write_atomic(delta_target, client.request("GET", f"/bundles/{sequence}/delta").content)
        for warning in made.get("warnings", []):
            err(f"yilu: warning: {shown(warning)}")
        if delta_target is not None and made.get("deltaSize") is None:
            err(
                f"yilu: warning: no delta written to {shown(str(delta_target))}: this root has built "
                "no bundle before to build it from; devices install the full bundle"
            )
        err(
            f"bundle {sequence} written to {target}"
            + (
                f", its delta to {delta_target}"
                if delta_target is not None and made.get("deltaSize") is not None
                else ""
            )
        )
        _show(as_json, made, lambda m: [str(target)])
        return EXIT_OK

    @root.command(
        "rotate-key",
        help="Rotate the root key (TUF-style): a new key signs with the old one a statement "
        "that devices walk forward; the next federation list is signed by the new key. The new "
        "key is encrypted with $YILU_KEY_PASSPHRASE on the service's machine. Back up the new key "
        "file (named in the answer) before anything else.",
        short_help="rotate the root signing key (admin)",
        example="yilu root rotate-key",
    )
    @service
    def root_rotate(url: str, token: str | None, as_json: bool) -> int:
        with _client(url, token) as client:
            done = client.post_json("/root/keys/rotate")
        err(
            f"root key rotated: version {done.get('rootVersion')}, key {done.get('kid')}, "
            f"federation list {done.get('federationListSequence')} signed with it"
        )
        _show(as_json, done, lambda d: [str(d.get("kid"))])
        return EXIT_OK

    return root


def _member_row(member: dict[str, Any]) -> Sequence[Any]:
    status = member.get("status") or []
    last = status[-1].get("status") if status and isinstance(status[-1], dict) else ""
    return (
        member.get("number"),
        member.get("id"),
        member.get("country"),
        member.get("accreditationBody"),
        " ".join(member.get("labIds", [])),
        last,
    )


def _problems_of(result: Any) -> list[str]:
    if not isinstance(result, dict):
        return []
    out: list[str] = []
    for value in result.values():
        if isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, str))
    return out


registry = registry_group()
root = root_group()
