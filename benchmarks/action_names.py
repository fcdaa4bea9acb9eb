"""Check that every refuted managed pair gets a counterexample with a real action.

For each managed-policy pair the script runs `check_no_new_access(old, new)`.
For a refuted pair it looks the counterexample action up in the bundled
catalog. When the catalog does not define it, the script runs
`list_new_access(old, new)`, which decides every catalog action the new
version matches one by one. A non-empty listing means that the difference
contains a real action, so the counterexample should have named one: that
pair is a failure. An empty, complete listing confirms the check's note that
no defined action fits.

For a counterexample with a defined action, the script also runs the listing
and reports the pair when the action is missing from it, because the two
must agree on which actions are newly allowed.

Usage: python benchmarks/action_names.py [--corpus DIR] [--timeout S] [--pair NAME ...]
Writes: results/action_names.csv and results/action_names_summary.txt
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from run_pairs import DEFAULT_CORPUS, RESULTS_DIR, TIMEOUT_SECONDS, Pair, load_pair, read_pairs
from verifier.catalog import Catalog, default_catalog
from verifier.check import UNKNOWN_ACTION_NOTE, check_no_new_access
from verifier.new_access import list_new_access
from verifier.policy.document import PolicyDocument
from verifier.solver import Verdict

COLUMNS = ("pair", "verdict", "action", "defined", "noted", "listed_actions", "listing_complete", "outcome", "example", "seconds")

# Outcomes of one pair.
NOT_REFUTED = "not refuted"
NAMED = "named"  # the counterexample action is defined and the listing has it
NO_REAL_ACTION = "no real action"  # undefined name, and the listing confirms that none fits
MISSED = "real action exists but not named"
NOT_LISTED = "named action not listed"
UNDETERMINED = "listing incomplete"
FAILURES = (MISSED, NOT_LISTED)


@dataclass
class PairResult:
    row: dict

    @property
    def outcome(self) -> str:
        return self.row["outcome"]


def check_pair(name: str, old: PolicyDocument, new: PolicyDocument, catalog: Catalog, timeout: float) -> PairResult:
    """Run the check, and the listing when the check refutes, on one pair."""
    started = time.perf_counter()
    result = check_no_new_access(old, new, timeout=timeout)
    row = {"pair": name, "verdict": result.verdict.value, "action": "", "defined": "", "noted": ""}
    row.update(listed_actions="", listing_complete="", outcome=NOT_REFUTED, example="")
    if result.verdict is not Verdict.REFUTED:
        row["seconds"] = f"{time.perf_counter() - started:.3f}"
        return PairResult(row)

    action = result.counterexample.action
    defined = catalog.action(action) is not None
    row.update(action=action, defined=defined, noted=UNKNOWN_ACTION_NOTE in result.notes)
    listing = list_new_access(old, new, timeout=timeout)
    listed = [entry.action for entry in listing.entries]
    complete = listing.complete and not listing.undecided
    row.update(listed_actions=len(listed), listing_complete=complete)

    if defined and action in listed:
        row["outcome"] = NAMED
    elif defined:
        row["outcome"] = NOT_LISTED if complete else UNDETERMINED
    elif listed:
        row.update(outcome=MISSED, example=listed[0])
    else:
        row["outcome"] = NO_REAL_ACTION if complete else UNDETERMINED
    row["seconds"] = f"{time.perf_counter() - started:.3f}"
    return PairResult(row)


def summary_lines(results: list[PairResult], load_start: float, load_end: float, run_seconds: float) -> list[str]:
    counts = Counter(r.outcome for r in results)
    refuted = sum(r.row["verdict"] == "refuted" for r in results)
    noted_but_defined = [r for r in results if r.row["noted"] is True and r.row["defined"] is True]
    lines = [
        f"load average (1 min) at start: {load_start:.2f}",
        f"pairs: {len(results)}, refuted: {refuted}",
        *(f"{outcome}: {counts.get(outcome, 0)}" for outcome in (NAMED, NO_REAL_ACTION, MISSED, NOT_LISTED, UNDETERMINED)),
        f"note on a defined action: {len(noted_but_defined)}",
        f"run seconds: {run_seconds:.0f}",
        f"load average (1 min) at end: {load_end:.2f}",
    ]
    for result in results:
        row = result.row
        if row["outcome"] in (MISSED, NOT_LISTED, UNDETERMINED):
            detail = f", listed for example {row['example']}" if row["example"] else ""
            lines.append(f"- {row['outcome']}: {row['pair']}: counterexample action {row['action']}{detail}")
    for result in noted_but_defined:
        lines.append(f"- note on a defined action: {result.row['pair']}: {result.row['action']}")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"corpus folder that contains managed/ (default: {DEFAULT_CORPUS})")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help=f"folder for action_names.csv and action_names_summary.txt (default: {RESULTS_DIR})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help=f"time limit per check and per listing in seconds (default: {TIMEOUT_SECONDS:g})")
    parser.add_argument("--pair", action="append", default=[], help="run only the pair with this name, e.g. 'ReadOnlyAccess v139->v140' (repeatable)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    run_start = time.perf_counter()
    catalog = default_catalog()
    pairs: list[Pair] = read_pairs(args.corpus, "managed")
    if args.pair:
        unknown = sorted(set(args.pair) - {pair.name for pair in pairs})
        if unknown:
            sys.exit(f"error: pair not found in the managed index: {', '.join(unknown)}")
        pairs = [pair for pair in pairs if pair.name in args.pair]

    results = []
    for number, pair in enumerate(pairs, start=1):
        old, new = load_pair(args.corpus, pair)
        result = check_pair(pair.name, old, new, catalog, args.timeout)
        results.append(result)
        if result.outcome in FAILURES or result.outcome == UNDETERMINED:
            print(f"{pair.name}: {result.outcome}: {result.row['action']}", flush=True)
        if number % 100 == 0:
            print(f"{number}/{len(pairs)} pairs", file=sys.stderr, flush=True)

    lines = summary_lines(results, load_start, os.getloadavg()[0], time.perf_counter() - run_start)
    args.results.mkdir(parents=True, exist_ok=True)
    suffix = "_selected" if args.pair else ""
    with open(args.results / f"action_names{suffix}.csv", "w", encoding="utf-8", newline="") as table:
        writer = csv.DictWriter(table, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(r.row for r in results)
    (args.results / f"action_names{suffix}_summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 1 if any(r.outcome in FAILURES for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
