"""Run the three prove commands on every trust and resource policy of the corpus.

Reads `trust/index.jsonl` and `resource/index.jsonl` from the corpus folder.
Each policy gets a zone of its own account, chosen in this order: the account
in the first Resource ARN that has one, the account of the first federated
provider ARN, the first account the policy names anywhere, and otherwise the
placeholder 123456789012. The policies carry no other record of their owner,
so this zone is a stand-in for the one a team would declare.

Each policy is proved for `no-external-access`, `no-public-access` and
`no-confused-deputy`, one after another. One CSV row per policy and property
goes to `benchmarks/results/properties.csv`, and a summary with counts and
times per property is printed. Every refuted verdict has already been
replayed through the concrete evaluator and the concrete zone test by
`verifier.prove`; a replay failure is recorded as `error`.

Usage: python benchmarks/run_properties.py [--corpus DIR] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from verifier.errors import PolicyError, UsageError
from verifier.policy.document import PolicyDocument
from verifier.policy.parse import load_policy_file
from verifier.prove import Property, prove
from verifier.zone import Zone

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "corpus"
RESULTS = REPO_ROOT / "benchmarks" / "results" / "properties.csv"
COLUMNS = ("file", "category", "property", "zone_account", "verdict", "seconds", "reason", "principal", "explanation")
PLACEHOLDER_ACCOUNT = "123456789012"
_ARN_ACCOUNT = re.compile(r"arn:[^:]*:[^:]*:[^:]*:([0-9]{12}):")
_ACCOUNT = re.compile(r"(?<![0-9])[0-9]{12}(?![0-9])")


def own_account(policy: PolicyDocument) -> str:
    for statement in policy.statements:
        for resource in statement.resources or ():
            match = _ARN_ACCOUNT.match(resource)
            if match:
                return match.group(1)
    for statement in policy.statements:
        for element in (statement.principal, statement.not_principal):
            for name in element.federated if element else ():
                match = _ACCOUNT.search(name)
                if match:
                    return match.group(0)
    texts = json.dumps([s.model_dump(mode="json") for s in policy.statements])
    match = _ACCOUNT.search(texts)
    return match.group(0) if match else PLACEHOLDER_ACCOUNT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--timeout", type=float, default=30.0)
    options = parser.parse_args()

    rows = []
    for folder in ("trust", "resource"):
        for line in (options.corpus / folder / "index.jsonl").read_text().splitlines():
            entry = json.loads(line)
            path = options.corpus / entry["file"]
            try:
                policy = load_policy_file(path)
            except PolicyError as error:
                rows.append({"file": entry["file"], "category": entry["category"], "property": "-", "verdict": "invalid", "reason": str(error)[:200]})
                continue
            account = own_account(policy)
            zone = Zone(accounts=(account,))
            for prop in Property:
                started = time.monotonic()
                row = {"file": entry["file"], "category": entry["category"], "property": prop.value, "zone_account": account}
                try:
                    result = prove(policy, prop, zone, timeout=options.timeout)
                    row["verdict"] = result.verdict.value
                    row["reason"] = result.reason or ""
                    row["principal"] = result.counterexample.principal if result.counterexample else ""
                    row["explanation"] = result.explanation or ""
                except UsageError as error:
                    row["verdict"] = "not-applicable"
                    row["reason"] = str(error)[:200]
                except Exception as error:  # noqa: BLE001 - a benchmark records every failure
                    row["verdict"] = "error"
                    row["reason"] = f"{type(error).__name__}: {error}"[:300]
                row["seconds"] = f"{time.monotonic() - started:.4f}"
                rows.append(row)
                print(f"{entry['file']:40} {prop.value:20} {row['verdict']:8} {row['seconds']}s {row.get('reason', '')[:80]}", flush=True)

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)

    print()
    for folder in ("trust", "resource"):
        for prop in Property:
            selected = [r for r in rows if r["file"].startswith(folder + "/") and r["property"] == prop.value]
            counts = Counter(r["verdict"] for r in selected)
            seconds = sorted(float(r["seconds"]) for r in selected if r.get("seconds"))
            if not seconds:
                continue
            p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))]
            print(
                f"{folder:8} {prop.value:20} n={len(selected)} "
                + " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
                + f" p50={statistics.median(seconds):.3f}s p99={p99:.3f}s max={seconds[-1]:.3f}s"
            )


if __name__ == "__main__":
    main()
