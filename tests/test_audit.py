"""The audit trail cannot be rewritten silently: keyed chain, anchor outside DATA_DIR,
read-only check of the live trail or a copy. Each tampering below was reported "intact" before."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import stat

import pytest

from dashboard import audit, jobs
from dashboard.cli import main


@pytest.fixture
def store(tmp_path, use_data_dir, monkeypatch) -> jobs.JobStore:
    monkeypatch.setenv("DASHBOARD_AUDIT_DIR", str(tmp_path / "audit-dir"))
    monkeypatch.delenv("DASHBOARD_AUDIT_KEY", raising=False)
    data_dir = use_data_dir(tmp_path / "data")
    store = jobs.JobStore(data_dir / "state" / "jobs.sqlite", data_dir / "exports")
    for n in range(5):
        store.audit("dsb", "dpo", "download", "subject_access", f"job{n}", {"n": n}, rows=n)
    assert store.verify_audit().intact and store.verify_audit().chained == 5
    return store


def _plain_rechain(db: sqlite3.Connection, start: int) -> None:
    """What an attacker without the key can do: recompute a SHA-256 chain from entry ``start`` on."""
    rows = db.execute(f"SELECT {audit.COLUMNS}, prev_hash FROM audit ORDER BY seq").fetchall()
    prev = None
    for row in rows:
        seq = row[0]
        if seq >= start:
            digest = hashlib.sha256(json.dumps([prev, *row[:10]], ensure_ascii=False).encode()).hexdigest()
            db.execute("INSERT OR REPLACE INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (*row[:10], prev, digest))
            prev = digest
        else:
            prev = db.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()[0]


def _tamper(store: jobs.JobStore, *statements: str) -> None:
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("DROP TRIGGER audit_no_delete")
        for sql in statements:
            db.execute(sql)


def test_a_rewritten_and_rechained_entry_shows(store):
    with sqlite3.connect(store.path) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET user = 'someone-else' WHERE seq = 2")
        _plain_rechain(db, 2)
    check = store.verify_audit()
    assert not check.intact and check.broken_at == 2 and "BROKEN at entry 2" in check.describe()


def test_cut_off_newest_entries_show(store):
    _tamper(store, "DELETE FROM audit WHERE seq >= 4")
    check = store.verify_audit()
    assert not check.intact and "2 anchored entries are missing" in check.describe()


def test_blanked_hashes_show(store):
    _tamper(store, "UPDATE audit SET hash = NULL, prev_hash = NULL")
    assert not store.verify_audit().intact
    with sqlite3.connect(store.path) as db:  # and an emptied trail
        db.execute("DELETE FROM audit")
    assert not store.verify_audit().intact


def test_a_deleted_trail_shows(store, capsys):
    store.path.unlink()
    for suffix in ("-wal", "-shm"):
        store.path.with_name(store.path.name + suffix).unlink(missing_ok=True)
    assert main(["audit", "verify"]) == 1
    assert "BROKEN" in capsys.readouterr().out and not store.path.exists()  # the check created nothing


def test_a_removed_anchor_shows(store):
    audit.anchor_file(store.path).unlink()
    check = store.verify_audit()
    assert not check.intact and "anchor" in check.reason


def test_verify_reads_a_copy_read_only_against_the_live_anchor(store, tmp_path, capsys):
    copy = tmp_path / "kopie" / "jobs.sqlite"
    copy.parent.mkdir()
    shutil.copy(store.path, copy)
    before = (copy.read_bytes(), copy.stat().st_mtime_ns)
    assert main(["audit", "verify", "--file", str(copy)]) == 0
    assert "intact: 5 entries" in capsys.readouterr().out
    assert (copy.read_bytes(), copy.stat().st_mtime_ns) == before
    assert sorted(p.name for p in copy.parent.iterdir()) == ["jobs.sqlite"]  # no -wal or -shm written
    with sqlite3.connect(copy) as db:
        db.execute("DROP TRIGGER audit_no_update")
        db.execute("UPDATE audit SET rows = 999 WHERE seq = 5")
    assert main(["audit", "verify", "--file", str(copy)]) == 1
    assert store.verify_audit().intact  # the live trail is untouched


def test_a_fresh_install_keys_its_trail_without_configuration(tmp_path, use_data_dir, monkeypatch, capsys):
    monkeypatch.delenv("DASHBOARD_AUDIT_DIR", raising=False)
    monkeypatch.delenv("DASHBOARD_AUDIT_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    data_dir = use_data_dir(tmp_path / "data")
    store = jobs.JobStore(data_dir / "state" / "jobs.sqlite", data_dir / "exports")
    store.audit("dsb", "dpo", "export", "list_csv", "j1")
    key = tmp_path / "config" / "dsgvo-cockpit" / "audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_text().strip()) == 64
    assert stat.S_IMODE(audit.anchor_file(store.path).stat().st_mode) == 0o600
    assert store.verify_audit().intact
    main(["status"])
    assert str(key) in capsys.readouterr().out  # status names where the key is (never the key)
    monkeypatch.setenv("DASHBOARD_AUDIT_KEY", "another key")  # a wrong key verifies nothing
    assert not store.verify_audit().intact


def test_entries_from_before_keying_stay_readable(tmp_path, use_data_dir, monkeypatch):
    """A trail written by an earlier version (no hashes, then a plain chain) stays intact; after the first
    keyed entry, nothing unkeyed is accepted."""
    monkeypatch.setenv("DASHBOARD_AUDIT_DIR", str(tmp_path / "audit-dir"))
    data_dir = use_data_dir(tmp_path / "data")
    store = jobs.JobStore(data_dir / "state" / "jobs.sqlite", data_dir / "exports")
    with sqlite3.connect(store.path) as db:
        db.execute("INSERT INTO audit (seq, at, user, role, action, kind, params) "
                   "VALUES (1, '2025-01-01T00:00:00+00:00', 'a', 'dpo', 'export', 'list_csv', '{}')")
        db.execute("INSERT INTO audit (seq, at, user, role, action, kind, params) "
                   "VALUES (2, '2025-01-02T00:00:00+00:00', 'a', 'dpo', 'export', 'list_csv', '{}')")
        _plain_rechain(db, 2)
    store.audit("dsb", "dpo", "export", "list_csv", "j3")
    check = store.verify_audit()
    assert (check.intact, check.chained, check.legacy) == (True, 1, 2)
    with sqlite3.connect(store.path) as db:  # an unkeyed entry after the keyed one
        db.execute("INSERT INTO audit (seq, at, user, role, action, kind, params) "
                   "VALUES (4, '2026-01-01T00:00:00+00:00', 'x', 'dpo', 'download', 'list_csv', '{}')")
    assert store.verify_audit().broken_at == 4
