"""Command line: ``python -m dashboard <command>``, the commands ``--help`` lists (demo, snapshot, sources check, ...).

The same functions the app uses, for set-up and scheduled runs. Errors print one clear line and
exit non-zero; nothing personal is printed (counts and file names only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sqlite3
import sys
from pathlib import Path

import duckdb

from dashboard import paths
from dashboard.access import ROLES
from dashboard.errors import DashboardError, first_line


def _demo(args: argparse.Namespace) -> int:
    from dashboard.demo import generate

    out = Path(args.out) if args.out else paths.demo_dir()
    counts = generate(out, seed=args.seed, as_of=args.as_of, scale=args.scale)
    for rel, n in counts.items():
        print(f"{n:>12,}  {rel}")
    print(f"demo stores written to {out}")
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from dashboard.build import build_snapshot
    from dashboard.snapshot import current_snapshot, snapshot_problem

    live = current_snapshot()
    problem = snapshot_problem(live) if live is not None else None
    if args.if_missing and live is not None and problem is None:
        print(f"snapshot exists: {live}")
        return 0
    if args.if_missing and live is not None:
        print(f"snapshot {live.name} cannot be used ({problem}): rebuilding")
    from dashboard import notify, refresh

    try:
        progress = (lambda pct: print(f"{refresh.PROGRESS}{pct}", flush=True)) if args.report else None
        result = build_snapshot(Path(args.sources) if args.sources else None, keep=args.keep, full=args.full,
                                progress=progress)
    except DashboardError as exc:  # the digest reports a failed build (one line, as printed)
        notify.record_build(False, first_line(exc))
        raise
    notify.record_build(True)
    if args.report:  # started by the app's refresh job (dashboard.refresh): the result for the sidebar
        refresh.report(Path(args.report), result)
        return 0
    if result.unchanged:
        print(f"sources unchanged: {result.path.name} stays live (checked in {result.seconds:.1f} s)")
        return 0
    for table, (read, accepted, rejected) in result.tables.items():
        print(f"{table:<16} read {read:>11,}  accepted {accepted:>11,}  rejected {rejected:>8,}")
    if result.reused:
        print(f"unchanged sources, reused from the live snapshot: {', '.join(result.reused)}")
    if result.derived_reused:
        print(f"made from unchanged tables, reused from the live snapshot: {', '.join(result.derived_reused)}")
    print(f"published {result.path.name} in {result.seconds:.1f} s")
    return 0


def _sources(args: argparse.Namespace) -> int:
    """What each source holds and lacks, one line each; non-zero when something is missing."""
    from dashboard.ingest import readers

    lines = readers.report(readers.load_sources(Path(args.sources) if args.sources else None))
    for ok, text in lines:
        print(f"{'ok     ' if ok else 'MISSING'}  {text}")
    missing = sum(not ok for ok, _ in lines)
    print(f"{len(lines) - missing} ok, {missing} missing")
    return 1 if missing else 0


def _status(_args: argparse.Namespace) -> int:
    from dashboard.snapshot import current_snapshot, last_check, snapshot_problem

    live = current_snapshot()
    problem = snapshot_problem(live) if live is not None else "none (run: python -m dashboard snapshot)"
    from dashboard import audit

    print(f"data dir: {paths.data_dir()}")
    print(f"audit key: {audit.key_source()}; anchors in {audit.folder()}")
    if live is not None and problem is None:
        print(f"live snapshot: {live.name}")
        checked = last_check(live)
        if checked is not None:
            print(f"sources last checked: {checked.isoformat(timespec='seconds')} (unchanged since the snapshot)")
        return 0
    print(f"live snapshot: {live.name + ': ' if live else ''}{problem}")
    return 1


def _iso_dates(value):
    """JSON parameters: ISO dates and times become date/datetime values."""
    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str) and len(value) > 10 and value[10] == "T":
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _check_operator(user: str, role: str) -> None:
    """The CLI is no side door past the roles: ``--role`` must be the role the roles file gives ``--user``
    (the operator's own identity), as the app would decide it. In demo mode over generated data, like the
    app, any role may be chosen."""
    from dashboard import access, data
    from dashboard.snapshot import current_snapshot

    if access.auth_mode() == "demo":
        live = current_snapshot()
        demo_only = True
        if live is not None:
            con = data.connect(live)
            try:
                demo_only = bool(data.run(con, "snapshot_sources")["demo_only"][0])
            finally:
                con.close()
        access.check_demo_allowed(demo_only)
        return
    granted = access.role_for(access.Identity(user), access.load_role_map())
    if granted != role:
        raise access.AccessDenied(f"--role {role}: the roles file gives {user} the role {granted}")


def _export(args: argparse.Namespace) -> int:
    """The same job path as the app: a job record, the role check, the file, the audit entry."""
    import json

    from dashboard import jobs

    params = {"params": _iso_dates(json.loads(args.params))} if args.params else {}
    for key in ("as_of", "system", "contact_id", "query", "filename"):
        value = getattr(args, key)
        if value is not None:
            params[key] = value
    if args.delimiter:
        params["delimiter"] = args.delimiter
    if args.no_bom:
        params["bom"] = False
    _check_operator(args.user, args.role)
    store = jobs.JobStore()
    job = store.create(args.kind, params, args.user, args.role)
    job = jobs.execute(store, job.id)
    if job.status != "succeeded":
        print(f"error: export {job.id} failed: {job.error}", file=sys.stderr)
        return 1
    print(f"{job.rows:,} rows -> {job.file} ({job.size:,} bytes, sha256 {job.sha256})")
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from dashboard.history import KpiHistory
    from dashboard.snapshot import current_snapshot

    live = current_snapshot()
    if live is None:
        print("error: no snapshot published", file=sys.stderr)
        return 2
    store = KpiHistory()
    recomputed = store.recompute_outdated(live)
    if recomputed:
        print(f"{recomputed} stored points of older rules recomputed from {live.name}")
    if args.if_empty and not store.series().is_empty() and (store.series()["kind"] == "backfill").any():
        print("KPI history already backfilled")
        return 0
    print(f"{store.backfill(live, args.months)} month ends recomputed from {live.name}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    """Check the live trail, or a copy of it (--file) against the live trail's anchor; read-only."""
    from dashboard import audit

    live = paths.data_dir() / "state" / "jobs.sqlite"
    trail = audit.AuditTrail(Path(args.file) if args.file else live)
    check = trail.verify(anchor=audit.anchor_file(live))
    print(check.describe())
    return 0 if check.intact else 1


def _digest(args: argparse.Namespace) -> int:
    """Breach alerts and the digests whose cadence is due (docs/DEPLOY.md: SMTP, units, testing)."""
    from dashboard import notify

    failures = notify.run(notify.load_settings(), dry_run=args.dry_run, force=args.force)
    for failure in failures:
        print(f"error: not sent, kept for the next run: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _sweep(_args: argparse.Namespace) -> int:
    from dashboard import jobs

    expired = jobs.JobStore().sweep()
    print(f"{len(expired)} expired export(s) deleted")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":  # Streamlit reads the rest itself (and sets up its own logging)
        from dashboard import serve

        return serve.main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    paths.private_umask()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (DashboardError, ValueError, PermissionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (OSError, sqlite3.Error, duckdb.Error) as exc:  # a read-only or full disk, a vanished folder
        where = f": {exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else first_line(exc, typed=True)
        print(f"error: {reason}{where} (nothing was published or changed; check the disk and "
              f"DASHBOARD_DATA_DIR={paths.data_dir()})", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    """Every command, its options and the function that runs it."""
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="generate the synthetic operational stores")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--as-of", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    demo.add_argument("--scale", choices=("small", "medium", "large"), default="small")
    demo.add_argument("--out", help="folder (default: $DASHBOARD_DATA_DIR/demo)")
    demo.set_defaults(run=_demo)
    snap = sub.add_parser("snapshot", help="build and publish a snapshot from data/sources.toml")
    snap.add_argument("--sources", help="sources file (default: $DASHBOARD_SOURCES or data/sources.toml)")
    snap.add_argument("--keep", type=int, default=3, help="snapshot versions to keep (default 3)")
    snap.add_argument("--if-missing", action="store_true", help="do nothing when a snapshot is live")
    snap.add_argument("--full", action="store_true",
                      help="read and validate every source, even files unchanged since the last build")
    snap.add_argument("--report", help=argparse.SUPPRESS)  # the app's refresh job: progress lines, result file
    snap.set_defaults(run=_snapshot)
    sources = sub.add_parser("sources", help="check the sources before a build: tables, grants, register set-up")
    sources.add_argument("action", choices=("check",))
    sources.add_argument("--sources", help="sources file (default: $DASHBOARD_SOURCES or data/sources.toml)")
    sources.set_defaults(run=_sources)
    status = sub.add_parser("status", help="show the live snapshot")
    status.set_defaults(run=_status)
    from dashboard.exports import KINDS

    export = sub.add_parser("export", help="run an export job now (for scheduled use)")
    export.add_argument("kind", choices=sorted(KINDS))
    # The CLI is an operator's tool (shell access to the server is full trust), but every export says
    # who asked and in which role: both are required, and checked like in the app.
    export.add_argument("--user", required=True, help="who asks (recorded in the audit trail)")
    export.add_argument("--role", required=True, choices=ROLES, help="the role the export is made for")
    export.add_argument("--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD (deletion worklist)")
    export.add_argument("--system", help="source system (deletion worklist)")
    export.add_argument("--contact-id", help="data subject (Art. 15 / Art. 20)")
    export.add_argument("--query", help="named list query (list_csv)")
    export.add_argument("--filename", help="file name stem")
    export.add_argument("--params", help="JSON object: the list query's parameters (list_csv)")
    export.add_argument("--delimiter", choices=(";", ","), help="CSV delimiter (default ';')")
    export.add_argument("--no-bom", action="store_true", help="CSV without the UTF-8 byte-order mark")
    export.set_defaults(run=_export)
    backfill = sub.add_parser("kpi-backfill",
                              help="recompute past month ends, and points of older rules, into the KPI history")
    backfill.add_argument("--months", type=int, default=12)
    backfill.add_argument("--if-empty", action="store_true", help="only when no backfill exists yet")
    backfill.set_defaults(run=_backfill)
    digest = sub.add_parser("digest", help="send breach alerts and the digests whose cadence is due "
                                           "(recipients and SMTP in $DASHBOARD_NOTIFY or data/notify.toml)")
    digest.add_argument("--dry-run", action="store_true", help="print what would be sent; send nothing")
    digest.add_argument("--force", action="store_true", help="send every recipient's digest now, whatever its cadence")
    digest.set_defaults(run=_digest)
    sweep = sub.add_parser("sweep-exports", help="delete export files past their expiry")
    sweep.set_defaults(run=_sweep)
    sub.add_parser("serve", help="start the app (imports and cache warm-up before the first visit); "
                   "further options go to Streamlit, e.g. --server.port 8501")
    audit = sub.add_parser("audit", help="check the audit trail")
    audit.add_argument("action", choices=("verify",))
    audit.add_argument("--file", help="check a copy of the job store (jobs.sqlite) instead of the live one")
    audit.set_defaults(run=_audit)
    return parser
