"""Command line: ``python -m dashboard demo|snapshot|status``.

The same functions the app uses, for set-up and scheduled runs. Errors print one clear line and
exit non-zero; nothing personal is printed (counts and file names only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from dashboard import paths
from dashboard.policy import PolicyError
from dashboard.sources import SourceError


def _demo(args: argparse.Namespace) -> int:
    from dashboard.demo import generate

    out = Path(args.out) if args.out else paths.demo_dir()
    counts = generate(out, seed=args.seed, as_of=args.as_of, scale=args.scale)
    for rel, n in counts.items():
        print(f"{n:>12,}  {rel}")
    print(f"demo stores written to {out}")
    return 0


def _snapshot(args: argparse.Namespace) -> int:
    from dashboard.snapshot import build_snapshot, current_snapshot

    if args.if_missing and current_snapshot() is not None:
        print(f"snapshot exists: {current_snapshot()}")
        return 0
    result = build_snapshot(Path(args.sources) if args.sources else None, keep=args.keep)
    for table, (read, accepted, rejected) in result.tables.items():
        print(f"{table:<16} read {read:>11,}  accepted {accepted:>11,}  rejected {rejected:>8,}")
    print(f"published {result.path.name} in {result.seconds:.1f} s")
    return 0


def _status(_args: argparse.Namespace) -> int:
    from dashboard.snapshot import current_snapshot

    live = current_snapshot()
    print(f"data dir: {paths.data_dir()}")
    print(f"live snapshot: {live.name if live else 'none (run: python -m dashboard snapshot)'}")
    return 0 if live else 1


def main(argv: list[str] | None = None) -> int:
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
    snap.set_defaults(run=_snapshot)
    status = sub.add_parser("status", help="show the live snapshot")
    status.set_defaults(run=_status)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except (SourceError, PolicyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
