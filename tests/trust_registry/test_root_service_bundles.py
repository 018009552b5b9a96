"""The root builds bundles from what its members publish, fetched over real HTTP: a
bundle installs in a verifier pinned with root-keys.json and a lab's certificate
verifies; rogue members' lists are dropped with a warning; a bundle is refused while the
federation list has unpublished changes (docs/architecture.md, "Root service")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from protocol.bundle import MAGIC
from protocol.keys import SigningKey
from protocol.lists import Lab, Scope, StatusEvent, TrustList
from rootkit import Publications, app_for, auth, loopback_fetcher, member_body, set_up
from servekit import Served
from testkit import NOW, YEAR_AGO, World
from verifier import Verifier
from verifier.store import SnapshotStore, read_root_keys

Serve = Callable[[Any], Served]


def test_a_bundle_from_fetched_lists_verifies_a_certificate_and_rogues_gain_nothing(
    database_url: str | None, tmp_path: Path, serve: Serve, world: World, monkeypatch: Any
) -> None:
    monkeypatch.setenv("YILU_KEY_PASSPHRASE", "correct horse battery staple")
    lists = Publications()
    lists.trust["cn"] = world.trust_list("CN")
    lists.status["cn"] = [t for k in ("cn-food", "cn-metals") for t in world.status_lists(world.labs[k])]
    # RU, a rogue member, lists CN's lab under its own key, with its real key.
    cn_lab = next(lab for lab in _labs(world, "CN") if lab.id == "https://qdtc.example.cn")
    rogue = TrustList(
        world.reg_id("RU"), "RU", "AB-RU", 1, NOW - timedelta(hours=1), NOW + timedelta(days=30), (cn_lab,)
    )
    lists.trust["ru"] = rogue.sign(world.reg_keys["RU"], world.reg_keys["RU"].public.kid)
    # KZ's list is signed by a key that is not KZ's (a stolen server, not a stolen key).
    thief = SigningKey.generate()
    lists.trust["kz"] = TrustList(
        world.reg_id("KZ"), "KZ", "AB-KZ", 1, NOW - timedelta(hours=1), NOW + timedelta(days=30), ()
    ).sign(thief, thief.public.kid)
    # A status list pushed by CN that claims to be RU's lab's is dropped too.
    lists.status["cn"] += world.status_lists(world.labs["ru-food"])
    registries = serve(lists.app())
    conf, admin = set_up(tmp_path, database_url)
    server = serve(app_for(conf, fetch=loopback_fetcher(registries.url)))
    for cc in ("CN", "RU", "KZ"):
        assert (
            server.client.post("/members", json=member_body(world, cc), headers=auth(admin)).status_code
            == 201
        )
    for agreement in world.agreements:
        body = {
            "country": agreement.country,
            "accepts": list(agreement.accepts),
            "scopes": list(agreement.scopes),
            "from": agreement.since.isoformat(),
        }
        assert server.client.post("/agreements", json=body, headers=auth(admin)).status_code == 201
    refused = server.client.post("/bundles", headers=auth(admin))
    assert refused.status_code == 409
    assert refused.json()["detail"].endswith(
        "publish it first (yilu root publish, POST /federation-list/publish) or wait for the publish job"
    )
    assert "unpublished changes since sequence 1" in refused.json()["detail"]
    assert server.client.post("/federation-list/publish", headers=auth(admin)).status_code == 200
    fetched = server.client.post("/fetch", headers=auth(admin)).json()
    assert fetched["kept"] == 3  # CN's trust list and its two labs' status lists
    dropped = "\n".join(fetched["dropped"])
    assert (
        f"trust list of member {world.reg_id('RU')} was dropped: it lists lab https://qdtc.example.cn, "
        "outside" in dropped
    )
    assert (
        f"trust list of member {world.reg_id('KZ')} was dropped: its signature is not by a key of" in dropped
    )
    assert "is not a lab of this registry" in dropped
    again = server.client.post("/fetch", headers=auth(admin)).json()
    assert again["kept"] == 0 and again["unchanged"] >= 2  # ETag / If-None-Match: 304s
    built = server.client.post("/bundles", headers=auth(admin))
    assert built.status_code == 201, built.text
    warnings = "\n".join(built.json()["warnings"])
    assert f"no trust list of member {world.reg_id('RU')} is kept" in warnings
    assert "outside the lab ids" in warnings
    got = server.client.get("/bundles/latest")
    assert got.status_code == 200 and got.content.startswith(MAGIC)
    assert (
        server.client.get("/bundles/latest", headers={"If-None-Match": got.headers["etag"]}).status_code
        == 304
    )
    # A device pins root-keys.json and installs the bundle; a CN lab's certificate verifies.
    store = SnapshotStore(tmp_path / "device", pinned_roots=read_root_keys(conf.data_dir / "root-keys.json"))
    installed = store.install(got.content, now=NOW + timedelta(minutes=5))
    snapshot = installed.snapshot
    result = Verifier(snapshot, country="KZ").verify(world.issue("cn-food"), at=NOW + timedelta(hours=1))
    assert result.verdict == "accept", result
    assert server.client.get("/bundles/1/delta").status_code == 404  # the first has no delta
    # A change, published, then a second bundle with a delta from the first.
    assert (
        server.client.post(
            "/members/2/status", json={"status": "suspended", "since": NOW.isoformat()}, headers=auth(admin)
        ).status_code
        == 200
    )
    assert server.client.post("/bundles", headers=auth(admin)).status_code == 409
    assert server.client.post("/federation-list/publish", headers=auth(admin)).status_code == 200
    second = server.client.post("/bundles", headers=auth(admin)).json()
    assert second["sequence"] == 2 and second["deltaSize"] is not None
    delta = server.client.get("/bundles/2/delta")
    assert delta.status_code == 200 and len(delta.content) == second["deltaSize"]
    assert store.install(delta.content, now=NOW + timedelta(minutes=10)).snapshot.sequence == 2
    assert [b["sequence"] for b in server.client.get("/bundles").json()] == [2, 1]


def _labs(world: World, cc: str) -> list[Lab]:
    return [
        Lab(
            spec.id,
            {"en": f"Lab {name}"},
            cc,
            f"{cc}-{name}",
            tuple(s if isinstance(s, Scope) else Scope(s) for s in spec.scopes),
            (StatusEvent("active", YEAR_AGO),),
            spec.records(),
        )
        for name, spec in world.labs.items()
        if spec.country == cc
    ]
