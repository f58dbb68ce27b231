"""CSV sources as offices write them: Excel ends records in CRLF and puts a lone LF inside a
quoted cell (Alt+Enter). DuckDB's line reader gave up on such a file and failed the whole build."""

from __future__ import annotations

from dashboard.build import build_snapshot
from dashboard.snapshot import connect as open_snapshot
from tests.helpers import write_store


def _build_with_contacts_csv(tmp_path, content: bytes):
    folder = tmp_path / "csv"
    folder.mkdir()
    (folder / "contacts.csv").write_bytes(content)
    sources = write_store(tmp_path / "src", {})
    text = sources.read_text(encoding="utf-8").replace(
        '[tables.contacts]\nsource = "fixture"\nfile = "contacts.jsonl"',
        '[tables.contacts]\nsource = "excel"\nfile = "contacts.csv"')
    sources.write_text(text + f'\n[sources.excel]\nkind = "csv"\npath = "{folder}"\n', encoding="utf-8")
    result = build_snapshot(sources, data_dir=tmp_path / "data")
    con = open_snapshot(result.path)
    try:
        rows = con.sql("SELECT contact_id, first_name, city FROM contacts ORDER BY contact_id").fetchall()
        rejected = con.sql("SELECT source_row, reason FROM rejected_rows WHERE table_name = 'contacts' "
                           "ORDER BY source_row").fetchall()
    finally:
        con.close()
    return result.tables["contacts"], rows, rejected


HEADER = b"contact_id;first_name;city;created_at\r\n"


def test_excel_csv_with_a_line_break_inside_a_cell_is_read(tmp_path):
    content = (HEADER + b'C1;"Erika\nund Max";"Neu-\nBamberg";2024-01-01T00:00:00Z\r\n'
               b"C2;Max;Mainz;2024-01-02T00:00:00Z\r\n")
    counts, rows, rejected = _build_with_contacts_csv(tmp_path, content)
    assert counts == (2, 2, 0) and rejected == []
    assert rows == [("C1", "Erika\nund Max", "Neu-\nBamberg"), ("C2", "Max", "Mainz")]


def test_broken_records_of_such_a_file_are_set_aside_with_their_number(tmp_path):
    content = (HEADER + b'C1;"Erika\nund Max";Mainz;2024-01-01T00:00:00Z\r\n'
               b'C2;"unbalanced;Mainz;2024-01-02T00:00:00Z\r\n'  # record 3: a quote that never closes
               b"C3;a;b;c;d\r\n"  # record 4: five fields
               b"C4;Max;Mainz;2024-01-04T00:00:00Z\r\n")
    counts, rows, rejected = _build_with_contacts_csv(tmp_path, content)
    assert [r[0] for r in rows] == ["C1", "C4"]  # nothing after a broken record is lost
    assert counts == (4, 2, 2)
    assert [line for line, _ in rejected] == [3, 4]
    assert all("malformed CSV" in reason for _, reason in rejected)
