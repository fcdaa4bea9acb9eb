"""Run the soundness harness of the test suite at benchmark scale.

Five parts, one sub-command each (`all` runs them one after another):

  symbolic  z3 encoding (`symbolic_allows`) against the concrete evaluator
            (`evaluate`) on generated (policy, request) pairs.
  oracle    `evaluate` against @cloud-copilot/iam-simulate, through
            tools/oracle/run.mjs, one batch of requests per policy.
  checks    `check_no_new_access` on generated policy pairs: a refuted check
            must replay through `evaluate`, and no sampled request may show
            new access for a proved check.
  solvers   every slice query behind `check` for the managed-policy pairs of
            the corpus, on z3 alone and on cvc5 alone.
  fuzz      the CLI on malformed input files, in process through click's
            runner and a few hundred times as a real subprocess.

Policies and requests come from the hypothesis strategies of
tests/test_differential.py, tests/test_oracle.py and tests/test_fuzz_cli.py,
which this script imports. Hypothesis runs with a fixed seed, no example
database and the generate phase only, so a run with the same arguments draws
the same examples. A disagreement is recorded and the run goes on.

Each part prints its counts and writes `benchmarks/results/soundness_<part>.json`.

Usage: python benchmarks/soundness.py PART [--count N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

import z3  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import oracle_client  # noqa: E402
import test_differential as differential  # noqa: E402
import test_oracle as oracle_strategies  # noqa: E402
from run_pairs import DEFAULT_CORPUS, RESULTS_DIR, load_pair, read_pairs  # noqa: E402
from verifier.check import NoNewAccessProblem, _slices, check_no_new_access  # noqa: E402
from verifier.encode.logic import literal  # noqa: E402
from verifier.errors import PolicyError, UnsupportedFeatureError  # noqa: E402
from verifier.evaluate import Request, evaluate  # noqa: E402
from verifier.keys import analyze_keys  # noqa: E402
from verifier.solver import Verdict, _cvc5_check, _z3_check  # noqa: E402
from verifier.symbolic import symbolic_allows  # noqa: E402

DEFAULT_SEED = 20261205
# Disagreements are all counted, and the first ones are written in full.
MAX_RECORDED = 50


def hypothesis_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


def run_until(target: int, counts: Counter[str], start_seed: int, batch: Callable[[int], None]) -> int:
    """Call `batch(seed)` with seeds start_seed, start_seed + 1, ... until
    counts["comparisons"] reaches `target`. Return the number of batches."""
    batches = 0
    while counts["comparisons"] < target:
        batch(start_seed + batches)
        batches += 1
    return batches


def request_json(request: Request) -> dict[str, Any]:
    context = {key: list(value) if isinstance(value, tuple) else value for key, value in request.context.items()}
    return {"action": request.action, "resource": request.resource, "context": context}


def record(disagreements: list[dict[str, Any]], counts: Counter[str], entry: dict[str, Any]) -> None:
    counts["disagreements"] += 1
    if len(disagreements) < MAX_RECORDED:
        disagreements.append(entry)


# --- symbolic: z3 encoding against the concrete evaluator ----------------------------


def run_symbolic(target: int, start_seed: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    disagreements: list[dict[str, Any]] = []
    per_policy = differential.REQUESTS_PER_POLICY
    examples = math.ceil(target / per_policy / 10)

    def batch(batch_seed: int) -> None:
        @seed(batch_seed)
        @hypothesis_settings(examples)
        @given(st.data())
        def compare(data: st.DataObject) -> None:
            document = data.draw(differential.policy_documents())
            policy = differential.parse(document)
            counts["policies"] += 1
            try:
                analyze_keys([policy])
            except UnsupportedFeatureError:
                counts["policies skipped: one key with operators of two types"] += 1
                return
            vocabulary = differential.vocabulary_of([document])
            requests = data.draw(
                st.lists(differential.requests_for(vocabulary), min_size=per_policy, max_size=per_policy)
            )
            for request in requests:
                expected = evaluate(policy, request).allowed
                try:
                    actual = symbolic_allows(policy, request)
                except UnsupportedFeatureError:
                    counts["requests the encoder reports as unsupported"] += 1
                    continue
                counts["comparisons"] += 1
                counts["allowed" if expected else "denied"] += 1
                if actual != expected:
                    record(
                        disagreements,
                        counts,
                        {"policy": document, "request": request_json(request), "evaluate": expected, "symbolic": actual},
                    )

        compare()

    counts["batches"] = run_until(target, counts, start_seed, batch)
    return {"counts": dict(counts), "disagreements": disagreements}


# --- oracle: concrete evaluator against iam-simulate ----------------------------------


def run_oracle(target: int, start_seed: int) -> dict[str, Any]:
    missing = oracle_client.missing_requirement()
    if missing is not None:
        raise SystemExit(f"error: the IAM oracle cannot run: {missing}. Run `{oracle_client.INSTALL_COMMAND}` first.")
    counts: Counter[str] = Counter()
    disagreements: list[dict[str, Any]] = []
    examples = math.ceil(target / oracle_strategies.REQUESTS_PER_POLICY / 10)

    with oracle_client.Oracle() as oracle:

        def batch(batch_seed: int) -> None:
            @seed(batch_seed)
            @hypothesis_settings(examples)
            @given(st.data())
            def compare(data: st.DataObject) -> None:
                document = data.draw(oracle_strategies.policy_documents())
                policy = oracle_strategies.parse(document)
                vocabulary = oracle_strategies.vocabulary_of(document)
                drawn = data.draw(oracle_strategies.request_batches(vocabulary))
                counts["policies"] += 1
                requests = [r for r in drawn if not oracle_strategies.resource_readings_differ(policy, r)]
                counts["requests dropped by the resource guard"] += len(drawn) - len(requests)
                for request, response in zip(requests, oracle.decide(document, requests), strict=True):
                    decision = evaluate(policy, request)
                    ours = oracle_strategies.decision_name(decision)
                    if response["error"] is not None:
                        counts["oracle errors"] += 1
                        record(disagreements, counts, {"policy": document, "request": request_json(request), "evaluate": ours, "oracle_error": response["error"]})
                        continue
                    counts["comparisons"] += 1
                    counts[ours] += 1
                    if decision.allow_statements and decision.deny_statements:
                        counts["Allow overridden by Deny"] += 1
                    if ours != response["decision"]:
                        record(disagreements, counts, {"policy": document, "request": request_json(request), "evaluate": ours, "oracle": response["decision"]})

            compare()

        counts["batches"] = run_until(target, counts, start_seed, batch)
    return {"counts": dict(counts), "disagreements": disagreements}


# --- checks: verdicts of check_no_new_access against the concrete evaluator --------------

CHECK_TIMEOUT_SECONDS = 10
REQUESTS_PER_PAIR = differential.REQUESTS_PER_PAIR


def run_checks(target: int, start_seed: int) -> dict[str, Any]:
    """Check `target` generated pairs (counted in counts["comparisons"])."""
    counts: Counter[str] = Counter()
    disagreements: list[dict[str, Any]] = []
    examples = max(1, math.ceil(target / 10))

    def batch(batch_seed: int) -> None:
        @seed(batch_seed)
        @hypothesis_settings(examples)
        @given(st.data())
        def compare(data: st.DataObject) -> None:
            old_document, new_document = data.draw(differential.policy_pairs())
            old, new = differential.parse(old_document), differential.parse(new_document)
            try:
                analyze_keys([old, new])
            except UnsupportedFeatureError:
                counts["pairs skipped: one key with operators of two types"] += 1
                return
            # Requests are drawn before the check, so that a verdict that a
            # timeout changes cannot change the examples drawn.
            vocabulary = differential.vocabulary_of([old_document, new_document])
            requests = data.draw(
                st.lists(differential.requests_for(vocabulary), min_size=REQUESTS_PER_PAIR, max_size=REQUESTS_PER_PAIR)
            )
            result = check_no_new_access(old, new, timeout=CHECK_TIMEOUT_SECONDS)
            counts["comparisons"] += 1
            counts[result.verdict.value] += 1
            pair = {"old": old_document, "new": new_document}
            if result.verdict is Verdict.REFUTED:
                counterexample = result.counterexample
                if counterexample is None:
                    record(disagreements, counts, {**pair, "problem": "refuted without a counterexample"})
                elif not evaluate(new, counterexample).allowed or evaluate(old, counterexample).allowed:
                    record(disagreements, counts, {**pair, "problem": "counterexample does not replay", "request": request_json(counterexample)})
                else:
                    counts["refuted and replayed"] += 1
            elif result.verdict is Verdict.PROVED:
                counts["requests sampled for proved pairs"] += len(requests)
                for request in requests:
                    if evaluate(new, request).allowed and not evaluate(old, request).allowed:
                        record(disagreements, counts, {**pair, "problem": "proved, but only new allows", "request": request_json(request)})
                        break
            else:
                counts[f"unknown: {result.reason}"[:120]] += 1

        compare()

    counts["batches"] = run_until(target, counts, start_seed, batch)
    return {"counts": dict(counts), "disagreements": disagreements}


# --- solvers: z3 against cvc5 on the queries behind check --------------------------------

SOLVER_BUDGET_MS = 10_000


def variable_hints(problem: NoNewAccessProblem) -> list[z3.BoolRef]:
    """Build the constraints of check's first attempt, which fix each key used
    as a policy variable to a short distinct value.

    NOTE: this repeats the hint construction of `verifier.check._solve_with_hints`
    and must follow it when that changes.
    """
    hints: list[z3.BoolRef] = []
    for index, name in enumerate(problem.variable_keys):
        key = problem.request.keys.get(name)
        if key is None or key.elements[0].text is None:
            continue
        hints.append(z3.And(key.present, key.single(), key.elements[0].text == literal(f"v{index + 1}")))
    return hints


def status_name(status: z3.CheckSatResult) -> str:
    if status == z3.sat:
        return "sat"
    return "unsat" if status == z3.unsat else "unknown"


def run_solvers(corpus: Path, limit: int | None, budget_ms: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    disagreements: list[dict[str, Any]] = []
    unknowns: list[dict[str, Any]] = []
    seconds = {"z3": 0.0, "cvc5": 0.0}
    pairs = read_pairs(corpus, "managed")[:limit]
    for number, pair in enumerate(pairs, start=1):
        try:
            old, new = load_pair(corpus, pair)
            problem = NoNewAccessProblem(old, new)
        except PolicyError:
            counts["pairs with an invalid file"] += 1
            continue
        except UnsupportedFeatureError:
            counts["pairs the encoder reports as unsupported"] += 1
            continue
        counts["pairs"] += 1
        hints = variable_hints(problem)
        for allow in problem.new_allows:
            for action_slice in _slices(allow):
                try:
                    assertions = problem.assertions(allow, action_slice)
                except UnsupportedFeatureError:
                    counts["slices the encoder reports as unsupported"] += 1
                    continue
                if assertions is None:
                    counts["slices covered without the solver"] += 1
                    continue
                queries = [("full", assertions)]
                if hints:
                    queries.append(("fixed variable values", assertions + hints))
                for kind, query in queries:
                    started = time.perf_counter()
                    by_z3 = status_name(_z3_check(query, budget_ms).status)
                    middle = time.perf_counter()
                    by_cvc5 = status_name(_cvc5_check(query, budget_ms, problem.request.variables()).status)
                    seconds["z3"] += middle - started
                    seconds["cvc5"] += time.perf_counter() - middle
                    counts["queries"] += 1
                    counts[f"z3 {by_z3}, cvc5 {by_cvc5}"] += 1
                    entry = {"pair": pair.name, "statement": allow.statement.label, "query": kind, "z3": by_z3, "cvc5": by_cvc5}
                    if "unknown" in (by_z3, by_cvc5):
                        counts["queries with an unknown answer"] += 1
                        unknowns.append(entry)
                    elif by_z3 != by_cvc5:
                        record(disagreements, counts, entry)
                    else:
                        counts["comparisons"] += 1
        if number % 100 == 0:
            print(f"  {number} of {len(pairs)} pairs, {counts['queries']} queries", flush=True)
    counts_out: dict[str, Any] = dict(counts)
    counts_out["solver seconds"] = {name: round(value, 1) for name, value in seconds.items()}
    return {"counts": counts_out, "budget_ms": budget_ms, "disagreements": disagreements, "unknown": unknowns}


# --- main ----------------------------------------------------------------------------------

PARTS = ("symbolic", "oracle", "checks", "solvers", "fuzz")
DEFAULT_COUNTS = {"symbolic": 100_000, "oracle": 100_000, "checks": 2_000, "solvers": None, "fuzz": 10_000}


def run_part(part: str, args: argparse.Namespace) -> dict[str, Any]:
    count = args.count if args.count is not None else DEFAULT_COUNTS[part]
    if part == "symbolic":
        return run_symbolic(count, args.seed)
    if part == "oracle":
        return run_oracle(count, args.seed)
    if part == "checks":
        return run_checks(count, args.seed)
    if part == "solvers":
        return run_solvers(args.corpus, count, args.budget_ms)
    from soundness_fuzz import run_fuzz

    return run_fuzz(count, args.seed, args.subprocess_runs)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=(*PARTS, "all"))
    parser.add_argument(
        "--count",
        type=int,
        help="comparisons to reach (symbolic, oracle), generated pairs (checks), managed pairs "
        "(solvers, default all) or malformed inputs (fuzz); defaults: "
        + ", ".join(f"{part} {count}" for part, count in DEFAULT_COUNTS.items() if count),
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"first hypothesis seed (default: {DEFAULT_SEED})")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"corpus folder holding managed/ (default: {DEFAULT_CORPUS})")
    parser.add_argument("--budget-ms", type=int, default=SOLVER_BUDGET_MS, help=f"time limit of each solver on each query, in ms (default: {SOLVER_BUDGET_MS})")
    parser.add_argument("--subprocess-runs", type=int, default=300, help="fuzz inputs also run as a real subprocess (default: 300)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help=f"folder for soundness_<part>.json (default: {RESULTS_DIR})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    parts = PARTS if args.part == "all" else (args.part,)
    failed = False
    for part in parts:
        print(f"{part}: started", flush=True)
        started = time.perf_counter()
        summary = run_part(part, args)
        summary = {"part": part, "seed": args.seed, "seconds": round(time.perf_counter() - started, 1), **summary}
        args.results.mkdir(parents=True, exist_ok=True)
        path = args.results / f"soundness_{part}.json"
        path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        counts = summary["counts"]
        for name in sorted(counts):
            print(f"  {name}: {counts[name]}")
        print(f"{part}: {summary['seconds']} s, summary in {path}", flush=True)
        failed = failed or counts.get("disagreements", 0) > 0 or counts.get("failures", 0) > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
