"""The command line builds what `make run` needs and fails with one clear line."""

from __future__ import annotations

from dashboard.cli import main
from dashboard.snapshot import current_snapshot


def test_demo_then_snapshot_then_if_missing(tmp_path, use_data_dir, capsys):
    use_data_dir(tmp_path)
    assert main(["demo", "--scale", "small", "--as-of", "2026-11-26", "--seed", "3"]) == 0
    assert (tmp_path / "demo" / "helpdesk" / "contacts.csv").is_file()
    assert main(["status"]) == 1
    assert main(["snapshot"]) == 0
    first = current_snapshot(tmp_path / "snapshots")
    assert first is not None
    assert main(["snapshot", "--if-missing"]) == 0
    assert current_snapshot(tmp_path / "snapshots") == first
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "published" in out and "@" not in out  # counts and file names only, no personal data
    # A snapshot from an older version (no layout recorded) is rebuilt by --if-missing.
    import duckdb

    con = duckdb.connect(str(first))
    con.execute("ALTER TABLE snapshot_meta DROP COLUMN layout")
    con.close()
    assert main(["snapshot", "--if-missing"]) == 0
    assert current_snapshot(tmp_path / "snapshots") != first
    assert "cannot be used (built by an older version (layout 0" in capsys.readouterr().out


def test_demo_is_deterministic(tmp_path):
    assert main(["demo", "--as-of", "2026-11-26", "--seed", "9", "--out", str(tmp_path / "a")]) == 0
    assert main(["demo", "--as-of", "2026-11-26", "--seed", "9", "--out", str(tmp_path / "b")]) == 0
    for name in ("helpdesk/contacts.csv", "privacy_register/requests.jsonl", "newsletter/consent_events.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_snapshot_error_is_one_line(tmp_path, use_data_dir, capsys, monkeypatch):
    use_data_dir(tmp_path)
    monkeypatch.setenv("DASHBOARD_SOURCES", str(tmp_path / "missing.toml"))
    assert main(["snapshot"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing.toml'}: sources file not found"


def test_export_role_is_the_one_the_roles_file_gives_the_user(demo_data_dir, use_data_dir, tmp_path, monkeypatch,
                                                              capsys):
    """--role is checked against the roles file for --user, so the command line grants no
    role the app would not."""
    use_data_dir(demo_data_dir)
    roles = tmp_path / "roles.toml"
    roles.write_text('[users]\n"chef@aelvirionek.example" = "management"\n', encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_ROLES_FILE", str(roles))
    monkeypatch.setenv("DASHBOARD_AUTH", "oidc")
    report = ["export", "management_report", "--user", "chef@aelvirionek.example"]
    assert main([*report, "--role", "dpo"]) == 2
    assert "the roles file gives chef@aelvirionek.example the role management" in capsys.readouterr().err
    assert main(["export", "audit_csv", "--user", "stranger@example.com", "--role", "dpo"]) == 2
    assert "has no role" in capsys.readouterr().err
    assert main([*report, "--role", "management"]) == 0
