"""Run the no-new-access check on every policy pair of the benchmark corpus.

Reads `managed/pairs.jsonl` and `quacky/pairs.jsonl` from the corpus folder,
runs `check_no_new_access(old, new)` on each pair one after another (no
parallel workers, so that timings are not disturbed), writes one CSV row per
pair to `benchmarks/results/<corpus>.csv` and prints a summary.

The time of a pair covers encoding and solving only: both files are loaded
and validated before the clock starts. Pairs with an invalid file are not
timed. Any exception other than a validation error is recorded as verdict
`error`, because the checker is expected to return a verdict for every
valid input.

Usage: python benchmarks/run_pairs.py [--corpus DIR] [--only managed|quacky]
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from verifier.check import CheckResult, check_no_new_access
from verifier.errors import PolicyError
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import load_policy_file

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
CORPORA = ("managed", "quacky")
COLUMNS = ("pair", "old", "new", "verdict", "seconds", "reason", "solver_calls", "covered_syntactically")
TIMEOUT_SECONDS = 30.0

logger = logging.getLogger("run_pairs")
# Unknown and error pairs are listed one by one up to this count, and grouped
# by reason above it.
MAX_LISTED = 10


class RecordCollector(logging.Handler):
    """Keep the warnings that the checker logs while one pair runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name}: {record.getMessage()}")


@dataclass(frozen=True)
class Pair:
    """One (old, new) entry of a pairs.jsonl index; paths are relative to the corpus folder."""

    name: str
    old: str
    new: str
    meta: dict


def read_pairs(corpus: Path, name: str) -> list[Pair]:
    """Read `<corpus>/<name>/pairs.jsonl` into `Pair` objects with readable names."""
    pairs = []
    with open(corpus / name / "pairs.jsonl", encoding="utf-8") as index:
        for line in index:
            if not line.strip():
                continue
            row = json.loads(line)
            pairs.append(Pair(_pair_name(name, row), row["old"], row["new"], row))
    return pairs


def _pair_name(corpus_name: str, row: dict) -> str:
    if corpus_name == "managed":
        return f"{row['policy']} {row['old_version']}->{row['new_version']}"
    # A quacky pair is named after its new file, e.g.
    # `ec2/exp_single/ec2_allow_ebs_volume_owners/policy/2_7` for a mutant.
    new = row["new"].removesuffix(".json")
    for prefix in ("quacky/samples/mutations/", "quacky/samples/"):
        if new.startswith(prefix):
            return new[len(prefix) :]
    return new


def load_pair(corpus: Path, pair: Pair) -> tuple[PolicyDocument, PolicyDocument]:
    """Load and validate both files of a pair; raises PolicyError on an invalid file."""
    return load_policy_file(corpus / pair.old), load_policy_file(corpus / pair.new)


def first_issue(error: PolicyError) -> str:
    if not error.issues:
        return str(error)
    return error.issues[0].format(error.source)


def run_pair(corpus: Path, pair: Pair, timeout: float) -> tuple[dict, CheckResult | None]:
    """Check one pair and return its CSV row and, for a finished check, the result."""
    row = {"pair": pair.name, "old": pair.old, "new": pair.new, "verdict": "", "seconds": "", "reason": ""}
    row.update(solver_calls="", covered_syntactically="", warnings=[])
    try:
        old, new = load_pair(corpus, pair)
    except PolicyError as error:
        row.update(verdict="invalid", reason=first_issue(error))
        return row, None
    except Exception as error:  # noqa: BLE001 - the loader must raise only PolicyError, so this is a bug to list
        logger.error("%s: loading raised %s: %s", pair.name, type(error).__name__, error)
        row.update(verdict="error", reason=f"loading: {type(error).__name__}: {error}")
        return row, None

    collector = RecordCollector()
    checker_logger = logging.getLogger("verifier")
    checker_logger.addHandler(collector)
    started = time.perf_counter()
    try:
        result = check_no_new_access(old, new, timeout=timeout)
    except Exception as error:  # noqa: BLE001 - every exception here is a checker bug to list
        seconds = time.perf_counter() - started
        logger.error("%s: check raised %s: %s", pair.name, type(error).__name__, error)
        row.update(verdict="error", seconds=f"{seconds:.4f}", reason=f"{type(error).__name__}: {error}")
        return row, None
    finally:
        checker_logger.removeHandler(collector)
        row["warnings"] = collector.messages
    seconds = time.perf_counter() - started

    row.update(
        verdict=result.verdict.value,
        seconds=f"{seconds:.4f}",
        reason=result.reason or "",
        solver_calls=result.stats.solver_calls,
        covered_syntactically=result.stats.covered_syntactically,
    )
    return row, result


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(sorted_values) * fraction // 1))
    return sorted_values[int(rank) - 1]


def summarize(name: str, rows: list[dict]) -> list[str]:
    """Return the summary lines for one corpus: verdict counts, timing percentiles, unknown and error pairs."""
    counts = Counter(row["verdict"] for row in rows)
    lines = [f"== {name}: {len(rows)} pairs"]
    lines.append("verdicts: " + ", ".join(f"{verdict} {count}" for verdict, count in sorted(counts.items())))

    timed = sorted(float(row["seconds"]) for row in rows if row["verdict"] not in ("invalid", "error", ""))
    if timed:
        lines.append(
            f"seconds over {len(timed)} checked pairs: "
            f"p50 {percentile(timed, 0.50):.4f}, p90 {percentile(timed, 0.90):.4f}, "
            f"p99 {percentile(timed, 0.99):.4f}, max {timed[-1]:.4f}, "
            f"mean {statistics.fmean(timed):.4f}, total {sum(timed):.1f}"
        )
    lines.append(f"unknown: {counts.get('unknown', 0)}")
    for verdict in ("unknown", "error", "invalid"):
        selected = [row for row in rows if row["verdict"] == verdict]
        if len(selected) <= MAX_LISTED:
            lines += [f"  {verdict}: {row['pair']}: {row['reason']}" for row in selected]
            continue
        # Reasons that differ only in the statement index are one group.
        groups = Counter(re.sub(r"Statement\[\d+\]", "Statement[N]", row["reason"]) for row in selected)
        for reason, count in groups.most_common():
            lines.append(f"  {verdict}: {count} pairs: {reason}")
    for row in rows:
        for message in row["warnings"]:
            lines.append(f"  warning logged for {row['pair']}: {message}")
    return lines


def compare_with_quacky(pairs: list[Pair], rows: list[dict]) -> list[str]:
    """Compare verdicts with the `p2_not_subset_p1` results stored in the quacky index.

    Quacky reports SAT there when the mutant (new, p2) allows a request that
    the original (old, p1) does not, which is what REFUTED means here.
    """
    agree, differ = 0, []
    for pair, row in zip(pairs, rows, strict=True):
        expected = {
            (tool_result or {}).get("p2_not_subset_p1")
            for key, tool_result in pair.meta.items()
            if key.startswith("quacky_") and isinstance(tool_result, dict)
        } - {None}
        if len(expected) != 1 or row["verdict"] not in ("proved", "refuted"):
            continue
        quacky_refuted = expected.pop() == "SAT"
        if quacky_refuted == (row["verdict"] == "refuted"):
            agree += 1
        else:
            differ.append(f"  differs from quacky: {row['pair']}: iamverify {row['verdict']}, quacky {'SAT' if quacky_refuted else 'UNSAT'}")
    return [f"quacky comparison: {agree} pairs agree, {len(differ)} differ", *differ]


def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as output:
        writer = csv.DictWriter(output, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"corpus folder holding managed/ and quacky/ (default: {DEFAULT_CORPUS})")
    parser.add_argument("--only", choices=CORPORA, help="run one corpus only (default: both)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="time limit per check in seconds (default: 30)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help=f"folder for the CSV and summary files (default: {RESULTS_DIR})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not (args.corpus / "managed" / "pairs.jsonl").is_file():
        print(f"error: corpus not found: {args.corpus} has no managed/pairs.jsonl; pass --corpus DIR", file=sys.stderr)
        return 2

    # The load average shows whether other processes shared the CPUs, which
    # makes the timings slower than on an idle machine.
    summary = [f"load average (1 min) at start: {os.getloadavg()[0]:.2f}"]
    for name in (args.only,) if args.only else CORPORA:
        pairs = read_pairs(args.corpus, name)
        rows = []
        for number, pair in enumerate(pairs, start=1):
            row, _ = run_pair(args.corpus, pair, args.timeout)
            rows.append(row)
            if number % 100 == 0 or number == len(pairs):
                print(f"{name}: {number}/{len(pairs)} pairs checked", file=sys.stderr, flush=True)
        write_csv(args.out / f"{name}.csv", rows)
        summary += summarize(name, rows)
        if name == "quacky":
            summary += compare_with_quacky(pairs, rows)

    summary.append(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    text = "\n".join(summary) + "\n"
    summary_name = f"{args.only}_summary.txt" if args.only else "summary.txt"
    (args.out / summary_name).write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
