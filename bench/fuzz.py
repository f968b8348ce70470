"""Longer fuzzing of every parser of outside data: the targets CI runs briefly, for N seconds each.

The targets and the fuzzer are the test suite's (tests/support/fuzz_targets.py and
tests/support/fuzzing.py): the media decoder over every format it takes, bank files (hash
files, CSV, JSON lines, detected), report forms, `case submit` submission files, settings
(TOML and SHIELDWALL_* values), case numbers, and the JSON bodies of HTTP routes through
the ASGI app. Each runs for `--seconds` on mutants of small valid seeds drawn from
`--seed`; a crash is any exception the parser does not document (for HTTP: a 5xx), printed
with its input as hex so that it can be replayed.

    .venv/bin/python bench/fuzz.py [--seconds 20] [--seed 1] [--targets media-decode ...]

Exits 1 when anything crashed.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import warnings
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from machine_info import describe_machine

from tests.support.fuzz_targets import all_targets
from tests.support.fuzzing import FuzzReport, fuzz


def machine() -> str:
    """CPU, cores, load and versions, for the record."""
    return describe_machine(f"Pillow {Image.__version__}")


def row(report: FuzzReport) -> str:
    """One Markdown table row for a target's run."""
    errors = sorted(
        name for name in report.outcomes if name[:1].isupper() and not name.startswith("CRASH")
    )
    rate = report.iterations / report.seconds if report.seconds else 0.0
    return (
        f"| {report.target} | {report.iterations:,} | {rate:,.0f} | {len(report.crashes)} | "
        f"{len(errors)}: {', '.join(errors) or '-'} | {len(report.outcomes)} |"
    )


def main() -> int:
    """Fuzz each target for the time given; print a table and every crash."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--targets", nargs="*", default=None, help="names; default all")
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # Pillow's warnings about damaged files are expected here
    print("command:", shlex.join([sys.executable, *sys.argv]))
    print("machine:", machine())
    with tempfile.TemporaryDirectory(prefix="shieldwall-fuzz-") as folder:
        targets = [
            t for t in all_targets(Path(folder)) if not args.targets or t.name in args.targets
        ]
        print(f"seed {args.seed}, {args.seconds:g} s per target, {len(targets)} targets\n")
        print("| target | inputs | inputs/s | crashes | documented errors seen | outcomes |")
        print("|---|---|---|---|---|---|")
        reports = []
        for target in targets:
            report = fuzz(target, seconds=args.seconds, seed=args.seed)
            reports.append(report)
            print(row(report), flush=True)
    crashes = [crash for report in reports for crash in report.crashes.values()]
    total = sum(report.iterations for report in reports)
    print(f"\n{total:,} inputs in {sum(r.seconds for r in reports):.0f} s; crashes: {len(crashes)}")
    for crash in crashes:
        print(crash.describe())
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
