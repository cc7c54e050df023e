"""Merkle heads, signatures, proofs and tamper detection on the stored log (both backends)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi.testclient import TestClient
from sqlalchemy import text

from events.drafts import draft_from_json
from events.merkle_store import TreeReader
from events.store import EventStore
from service.app import create_app
from service.cli import main
from tests.conftest import WRITE, make_settings
from tests.factories import statement
from tests.unit.test_merkle import rfc_verify_consistency, rfc_verify_inclusion


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def independent_root(lines: list[bytes]) -> bytes:
    """RFC 9162 MTH over export lines, written here from the RFC's definition."""
    if not lines:
        return sha(b"")
    if len(lines) == 1:
        return sha(b"\x00" + lines[0])
    k = 1 << ((len(lines) - 1).bit_length() - 1)
    return sha(b"\x01" + independent_root(lines[:k]) + independent_root(lines[k:]))


def seed_key() -> tuple[str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return base64.b64encode(seed).decode(), key


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(list(args))
    out, _ = capsys.readouterr()
    return code, json.loads(out.strip().splitlines()[-1])


def test_proofs_for_every_position_of_logs_of_1_to_70_events(store: EventStore) -> None:
    reader = TreeReader(store.engine)
    bodies: list[bytes] = []
    for size in range(1, 71):
        stored = store.append([draft_from_json(statement(text=f"event {size}"))], batch=False).events[0]
        bodies.append(stored.body.encode())
        root = bytes.fromhex(reader.head(size).root_hash)
        assert root == independent_root(bodies)
        for position in range(1, size + 1):
            path = [bytes.fromhex(p) for p in reader.inclusion(position, size)]
            leaf = sha(b"\x00" + bodies[position - 1])
            assert rfc_verify_inclusion(position - 1, size, leaf, path, root), (position, size)
    roots = {size: independent_root(bodies[:size]) for size in range(1, 71)}
    for second in range(1, 71):
        for first in range(1, second + 1):
            proof = [bytes.fromhex(p) for p in reader.consistency(first, second)]
            assert rfc_verify_consistency(first, second, proof, roots[first], roots[second]), (first, second)


def test_heads_keys_and_proofs_over_http(database_url: str) -> None:
    seed, key = seed_key()
    settings = make_settings(database_url, signing_key=seed)
    with TestClient(create_app(settings)) as client:
        assert client.get("/audit/head").json() == {
            "tree_size": 0,
            "root_hash": sha(b"").hex(),
            "timestamp": None,
            "signature": client.get("/audit/head").json()["signature"],
        }
        stored = client.post(
            "/events/batch", json={"events": [statement() for _ in range(5)]}, headers=WRITE
        ).json()["events"]
        head = client.get("/audit/head").json()
        lines = [e for e in client.get("/audit/export").content.splitlines()]
        assert head["tree_size"] == 5 and head["root_hash"] == independent_root(lines).hex()
        assert head["timestamp"] == stored[-1]["recorded_at"]
        published = client.get("/audit/key").json()
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
        signed = rfc8785.dumps({k: head[k] for k in ("tree_size", "root_hash", "timestamp")})
        public.verify(base64.b64decode(head["signature"]), signed)  # raises if it does not verify
        assert public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ) == key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

        older = client.get("/audit/head", params={"size": 3}).json()
        assert older["root_hash"] == independent_root(lines[:3]).hex()
        path = client.get("/audit/proof/inclusion", params={"position": 2, "size": 5}).json()["audit_path"]
        assert rfc_verify_inclusion(
            1, 5, sha(b"\x00" + lines[1]), [bytes.fromhex(p) for p in path], bytes.fromhex(head["root_hash"])
        )
        proof = client.get("/audit/proof/consistency", params={"from": 3, "to": 5}).json()["consistency_path"]
        assert rfc_verify_consistency(
            3,
            5,
            [bytes.fromhex(p) for p in proof],
            bytes.fromhex(older["root_hash"]),
            bytes.fromhex(head["root_hash"]),
        )
        assert all(p == p.lower() and len(p) == 64 for p in path + proof)

        for url, params in [
            ("/audit/head", {"size": 6}),
            ("/audit/head", {"size": -1}),
            ("/audit/proof/inclusion", {"position": 0, "size": 5}),
            ("/audit/proof/inclusion", {"position": 6, "size": 5}),
            ("/audit/proof/inclusion", {"position": 1, "size": 9}),
            ("/audit/proof/consistency", {"from": 4, "to": 3}),
            ("/audit/proof/consistency", {"from": 0, "to": 3}),
            ("/audit/proof/consistency", {"from": 1, "to": 6}),
        ]:
            response = client.get(url, params=params)
            assert response.status_code == 422, (url, params, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_without_a_signing_key_heads_are_unsigned(client: TestClient) -> None:
    assert "signature" not in client.get("/audit/head").json()
    assert client.get("/audit/key").status_code == 404


# -- tampering: a superuser drops the triggers and rewrites rows ---------------------------


def drop_triggers(store: EventStore, backend: str) -> None:
    with store.engine.begin() as conn:
        if backend == "postgresql":
            conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE merkle_nodes DISABLE TRIGGER USER"))
        else:
            for name in (
                "events_no_update",
                "events_no_delete",
                "merkle_nodes_no_update",
                "merkle_nodes_no_delete",
            ):
                conn.execute(text(f"DROP TRIGGER {name}"))


def body_at(store: EventStore, position: int) -> str:
    with store.engine.connect() as conn:
        return str(
            conn.execute(text("SELECT body FROM events WHERE position = :p"), {"p": position}).scalar()
        )


def set_body(store: EventStore, position: int, body: str) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE events SET body = :b WHERE position = :p"), {"b": body, "p": position})


@pytest.fixture
def ten(store: EventStore) -> EventStore:
    store.append([draft_from_json(statement(text=f"report {i}")) for i in range(10)])
    return store


def verify_db(database_url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    return run(capsys, "--database-url", database_url, "verify")


def test_an_intact_log_verifies(
    ten: EventStore, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, verdict = verify_db(database_url, capsys)
    assert (code, verdict["ok"], verdict["count"]) == (0, True, 10)


def test_one_changed_byte_is_found(
    ten: EventStore, backend: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_triggers(ten, backend)
    set_body(ten, 4, body_at(ten, 4).replace("report 3", "report 8"))
    code, verdict = verify_db(database_url, capsys)
    assert (code, verdict["first_bad_position"], verdict["reason"]) == (1, 4, "hash_mismatch")


def test_a_deleted_event_is_found(
    ten: EventStore, backend: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_triggers(ten, backend)
    with ten.engine.begin() as conn:
        conn.execute(text("DELETE FROM events WHERE position = 6"))
    code, verdict = verify_db(database_url, capsys)
    assert (code, verdict["first_bad_position"], verdict["reason"]) == (1, 6, "position_gap")


def test_swapped_events_are_found_at_the_lower_position(
    ten: EventStore, backend: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_triggers(ten, backend)
    three, eight = body_at(ten, 3), body_at(ten, 8)
    set_body(ten, 3, eight)
    set_body(ten, 8, three)
    code, verdict = verify_db(database_url, capsys)
    assert (code, verdict["first_bad_position"], verdict["reason"]) == (1, 3, "position_gap")


def rewrite_from(store: EventStore, position: int, new_text: str) -> None:
    """What a careful forger does: change an event, re-hash the chain after it, rebuild the tree."""
    from events import merkle
    from events.merkle_store import insert_nodes

    with store.engine.begin() as conn:
        bodies = [row.body for row in conn.execute(text("SELECT body FROM events ORDER BY position"))]
        previous = "0" * 64
        rewritten = []
        for body in bodies:
            event = json.loads(body)
            if event["position"] == position:
                event["data"]["text"] = new_text
            event["prev_hash"] = previous
            unsealed = {k: v for k, v in event.items() if k != "hash"}
            event["hash"] = hashlib.sha256(rfc8785.dumps(unsealed)).hexdigest()
            previous = event["hash"]
            rewritten.append(rfc8785.dumps(event).decode())
        for event_body in rewritten:
            event = json.loads(event_body)
            conn.execute(
                text("UPDATE events SET body = :b, hash = :h, prev_hash = :p WHERE position = :n"),
                {"b": event_body, "h": event["hash"], "p": event["prev_hash"], "n": event["position"]},
            )
        conn.execute(text("DELETE FROM merkle_nodes"))
        insert_nodes(conn, merkle.new_nodes(0, [merkle.leaf_hash(b.encode()) for b in rewritten], {}))


def test_an_old_signed_head_exposes_a_rewritten_log(
    ten: EventStore,
    backend: str,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed, _ = seed_key()
    monkeypatch.setenv("TIMELINE_SIGNING_KEY", seed)
    code, head = run(capsys, "--database-url", database_url, "head", "--size", "7")
    assert code == 0 and "signature" in head
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(head))
    ten.append([draft_from_json(statement()) for _ in range(3)])
    code, verdict = run(capsys, "--database-url", database_url, "verify", "--head", str(saved))
    assert (code, verdict["ok"], verdict["tree_size"], verdict["current_size"]) == (0, True, 7, 13)

    drop_triggers(ten, backend)
    rewrite_from(ten, 2, "a quietly different report")
    code, verdict = verify_db(database_url, capsys)
    assert verdict["ok"], "the forgery is internally consistent: only a saved head can expose it"
    code, verdict = run(capsys, "--database-url", database_url, "verify", "--head", str(saved))
    assert (code, verdict["ok"], verdict["reason"]) == (1, False, "root_mismatch")


def test_a_head_signed_with_one_key_does_not_verify_with_another(
    ten: EventStore,
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed, _ = seed_key()
    monkeypatch.setenv("TIMELINE_SIGNING_KEY", seed)
    _, head = run(capsys, "--database-url", database_url, "head")
    saved = tmp_path / "head.json"
    saved.write_text(json.dumps(head))
    other = Ed25519PrivateKey.generate().public_key()
    other_file = tmp_path / "other.pem"
    other_file.write_text(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()
    )
    code, verdict = run(
        capsys,
        "--database-url",
        database_url,
        "verify",
        "--head",
        str(saved),
        "--public-key",
        str(other_file),
    )
    assert (code, verdict["reason"]) == (1, "bad_signature")
    code, verdict = run(capsys, "--database-url", database_url, "verify", "--head", str(saved))
    assert (code, verdict["ok"]) == (0, True)
    forged = {**head, "tree_size": 9}
    saved.write_text(json.dumps(forged))
    code, verdict = run(capsys, "--database-url", database_url, "verify", "--head", str(saved))
    assert (code, verdict["reason"]) == (1, "bad_signature")


def test_a_rewritten_tree_is_found_at_its_first_bad_leaf(
    ten: EventStore, backend: str, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_triggers(ten, backend)
    with ten.engine.begin() as conn:
        conn.execute(
            text("UPDATE merkle_nodes SET hash = :h WHERE level = 0 AND idx = 6"), {"h": b"\x00" * 32}
        )
    code, verdict = verify_db(database_url, capsys)
    assert (code, verdict["first_bad_position"], verdict["reason"]) == (1, 7, "tree_mismatch")


def test_the_cached_frontier_survives_a_rollback_and_another_writer(store: EventStore) -> None:
    """The tree hook keeps its last frontier; a rolled-back append or another process's
    append must make it read the frontier again, or the next nodes would be wrong."""
    from events.merkle_store import MerkleNodes
    from service.verification import verify_database
    from service.wiring import build_store

    failing = {"now": True}

    def fail_after_the_tree(conn: Any, appended: Any) -> None:
        if failing["now"]:
            raise RuntimeError("a later hook failed")

    ours = EventStore(store.recorder, hooks=[MerkleNodes(), fail_after_the_tree])
    other = build_store(store.engine)
    other.append([draft_from_json(statement(text="first"))])
    with pytest.raises(RuntimeError):
        ours.append([draft_from_json(statement(text=f"rolled back {i}")) for i in range(3)])
    failing["now"] = False
    other.append([draft_from_json(statement(text=f"another writer {i}")) for i in range(3)])
    ours.append([draft_from_json(statement(text="ours")) for _ in range(2)])
    other.append([draft_from_json(statement(text="last"))])
    verdict = verify_database(store, TreeReader(store.engine))
    assert verdict["ok"], verdict
