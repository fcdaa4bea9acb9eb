"""Replay iamverify's counterexamples through an independent IAM simulator.

For every pair that `run_pairs.py` recorded as refuted in
`benchmarks/results/managed.csv`, the check is run again to get its
counterexample request. The request is then decided by
`@cloud-copilot/iam-simulate` (through `tools/oracle/run.mjs`) once against
the new policy and once against the old one. The counterexample is
confirmed when the simulator allows it under the new policy and does not
allow it under the old one. Every other outcome is a disagreement. Each
disagreement gets the classes of the known differences between iamverify and
the simulator that its policies and request touch. A disagreement that
touches none of them is marked `unexplained`.

All requests go to one Node process: a thread writes them to its stdin while
the main thread reads the responses, one JSON line per request, in order.

Usage: python benchmarks/oracle_confirm.py [--corpus DIR] [--limit N]
Needs: npm ci --prefix tools/oracle
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import re
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

from run_pairs import DEFAULT_CORPUS, REPO_ROOT, RESULTS_DIR, TIMEOUT_SECONDS, Pair, load_pair
from verifier.check import check_no_new_access
from verifier.evaluate import Context, Request, action_matches, arn_matches
from verifier.policy.document import PolicyDocument, Statement
from verifier.policy.operators import Family
from verifier.policy.pattern import STAR, Pattern, Variable
from verifier.solver import Verdict

ORACLE = REPO_ROOT / "tools" / "oracle" / "run.mjs"
# Resource policy sent with every request. It allows the principal's own
# account (run.mjs's default principal is in 111122223333), as the default KMS
# key policy does. The simulator then leaves the decision to the identity
# policy even for KMS keys, which it denies when no key policy is given.
ACCOUNT_RESOURCE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "*",
            "Resource": "*",
        }
    ],
}
COLUMNS = (
    "pair",
    "old",
    "new",
    "action",
    "resource",
    "context",
    "new_decision",
    "old_decision",
    "outcome",
    "oracle_error",
    "class",
    "differences",
)

def refuted_pairs(results_csv: Path) -> list[Pair]:
    with open(results_csv, newline="", encoding="utf-8") as source:
        return [
            Pair(row["pair"], row["old"], row["new"], {})
            for row in csv.DictReader(source)
            if row["verdict"] == Verdict.REFUTED.value
        ]


def oracle_request(counterexample: Request) -> dict:
    """Turn a counterexample into the `request` object that run.mjs reads."""
    context = {
        key: list(value) if isinstance(value, tuple) else value for key, value in counterexample.context.items()
    }
    request = {"action": counterexample.action, "resource": counterexample.resource, "context": context}
    if counterexample.principal is not None:
        request["principal"] = counterexample.principal
    return request


def ask_oracle(documents: list[dict]) -> list[dict]:
    """Send every document to one run.mjs process and return its responses in order."""
    process = subprocess.Popen(
        ["node", str(ORACLE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )

    def write_all() -> None:
        for document in documents:
            process.stdin.write(json.dumps(document) + "\n")
        process.stdin.close()

    writer = threading.Thread(target=write_all)
    writer.start()
    responses = [json.loads(line) for line in process.stdout]
    writer.join()
    status = process.wait()
    if status != 0 or len(responses) != len(documents):
        raise RuntimeError(
            f"{ORACLE} failed: exit status {status} after {len(responses)} of {len(documents)} responses"
        )
    for number, response in enumerate(responses):
        if response.get("id") != number:
            raise RuntimeError(f"{ORACLE} returned responses out of order: response {number} has id {response.get('id')}")
    return responses


# --- Classification of disagreements ---
#
# Each check below recognises one known difference between iamverify and the
# simulator in the policies and the request, and names its class.
# (a): the simulator departs from the IAM documentation.
# (b): the IAM documentation leaves the point open.
# (c): iamverify likely departs from the IAM documentation.

CLASS_DOCUMENTED = "a"
CLASS_DOC_SILENT = "b"
CLASS_IAMVERIFY = "c"

# The simulator reads the partition, service, region and account fields of a
# policy ARN as regular expressions.
_REGEX_PUNCTUATION = re.compile(r"[.+()\[\]{}|^$\\?]")
# A resource part whose first word (the resource type) contains a wildcard
# and is followed by `/`, such as `security-group*/*` or `*/alice`. S3 ARNs
# have no resource-type word, and the simulator matches `bucket*/key*` there.
_WILDCARD_TYPE_WORD = re.compile(r"^[^/:]*[*?][^/:]*/")
_VARIABLE_KEY = re.compile(r"\$\{\s*([^\s,'{}]+)")


def _segmentwise_regex(pattern: Pattern, context: Context) -> str | None:
    """Regex that matches each of the six colon-separated ARN fields separately.

    Returns None when a policy variable cannot be substituted with one value.
    """
    parts: list[str] = []
    colons = 0
    for token in pattern:
        if isinstance(token, Variable):
            value = _context_value(context, token.key)
            if value is None:
                value = token.default
            if value is None or isinstance(value, tuple):
                return None
            parts.append(re.escape(value))
        elif isinstance(token, str):
            parts.append(re.escape(token))
            colons += token.count(":")
        else:
            in_resource_part = colons >= 5
            if token is STAR:
                parts.append(".*" if in_resource_part else "[^:]*")
            else:
                parts.append("." if in_resource_part else "[^:]")
    return "".join(parts)


def _colon_span_differs(pattern: Pattern, value: str, context: Context) -> bool:
    """Return whether iamverify's match differs from matching the six ARN fields separately."""
    regex = _segmentwise_regex(pattern, context)
    if regex is None:
        return False
    separately = re.fullmatch(regex, value, re.DOTALL) is not None
    return separately != arn_matches(pattern, value, context)


def _action_matches(statement: Statement, action: str) -> bool:
    if statement.actions is not None:
        return any(action_matches(p, action) for p in statement.actions)
    return not any(action_matches(p, action) for p in statement.not_actions or ())


def classify(policy: PolicyDocument, request: Request) -> dict[str, str]:
    """Name the known differences that `policy` and `request` touch, each mapped to its class."""
    found: dict[str, str] = {}
    for statement in policy.statements:
        if not _action_matches(statement, request.action):
            continue
        _classify_resources(statement, request, found)
        _classify_conditions(statement, request, found)
        _classify_variables(statement, request, found)
    for text in [request.action, request.resource, *_context_strings(request)]:
        if "\n" in text or "\r" in text:
            found["line break in a request value"] = CLASS_DOCUMENTED
        if any(ord(char) > 0xFFFF for char in text):
            found["non-BMP character in a request value"] = CLASS_DOCUMENTED
    return found


def _classify_resources(statement: Statement, request: Request, found: dict[str, str]) -> None:
    for negated in (False, True):
        texts = statement.not_resources if negated else statement.resources
        patterns = statement.resource_patterns(negated=negated)
        if texts is None or patterns is None:
            continue
        for text, pattern in zip(texts, patterns, strict=True):
            fields = text.split(":", 5)
            if len(fields) == 6 and any(_REGEX_PUNCTUATION.search(field) for field in fields[1:5]):
                found["regex punctuation in an ARN prefix field of a Resource"] = CLASS_DOCUMENTED
            if _colon_span_differs(pattern, request.resource, request.context):
                found["a `*` ending an ARN field of a Resource spans a colon"] = CLASS_DOCUMENTED
            matched = arn_matches(pattern, request.resource, request.context)
            if request.resource == "*" and not matched:
                # iamverify matches the request resource `*` literally,
                # because the Resource element page grants an action without
                # resource types only through `"Resource": "*"`. The simulator
                # reads it as a wildcard, which matches this pattern too.
                found["request resource `*` against a narrower Resource"] = CLASS_DOCUMENTED
            has_type_word = len(fields) == 6 and fields[2] != "s3"
            if matched and has_type_word and _WILDCARD_TYPE_WORD.match(fields[5]):
                found["wildcard in the resource-type word of a Resource"] = CLASS_DOC_SILENT


def _classify_conditions(statement: Statement, request: Request, found: dict[str, str]) -> None:
    for condition in statement.conditions:
        operator = condition.operator
        value = _context_value(request.context, condition.key)
        if value is None:
            continue
        values = value if isinstance(value, tuple) else (value,)
        if operator.family is Family.ARN:
            for policy_value in condition.values:
                pattern = statement.condition_pattern(policy_value, wildcards=True)
                if any(_colon_span_differs(pattern, v, request.context) for v in values):
                    found[f"a `*` ending an ARN field of {operator.text} spans a colon"] = CLASS_IAMVERIFY
        if operator.family is Family.DATE and any(re.fullmatch(r"-?\d+", v) for v in condition.values):
            found["date condition with epoch values against an ISO date"] = CLASS_DOCUMENTED
        if operator.qualifier is not None and operator.if_exists:
            found[f"{operator.text}: IfExists under a set qualifier"] = CLASS_DOCUMENTED


def _classify_variables(statement: Statement, request: Request, found: dict[str, str]) -> None:
    if not statement.substitutes_variables:
        return
    texts = list(statement.resources or ()) + list(statement.not_resources or ())
    texts += [v for condition in statement.conditions for v in condition.values]
    for text in texts:
        for key in _VARIABLE_KEY.findall(text):
            value = _context_value(request.context, key)
            if value == "" or (isinstance(value, tuple) and "" in value):
                found[f"policy variable ${{{key}}} substituted with an empty value"] = CLASS_DOC_SILENT


def _context_value(context: Context, key: str) -> str | tuple[str, ...] | None:
    for name, value in context.items():
        if name.lower() == key.lower():
            return value
    return None


def _context_strings(request: Request) -> list[str]:
    strings = []
    for value in request.context.values():
        strings += list(value) if isinstance(value, tuple) else [value]
    return strings


# --- Main ---


def confirm(corpus: Path, pairs: list[Pair], timeout: float) -> list[dict]:
    """Rerun each pair's check, ask the simulator about each counterexample and return the CSV rows."""
    rows, documents = [], []
    for pair in pairs:
        row = dict.fromkeys(COLUMNS, "")
        row.update(pair=pair.name, old=pair.old, new=pair.new)
        old, new = load_pair(corpus, pair)
        result = check_no_new_access(old, new, timeout=timeout)
        if result.verdict is not Verdict.REFUTED or result.counterexample is None:
            row.update(outcome=f"{result.verdict.value} on rerun")
            rows.append(row)
            continue
        counterexample = result.counterexample
        request = oracle_request(counterexample)
        differences = classify(new, counterexample) | classify(old, counterexample)
        row.update(
            action=request["action"],
            resource=request["resource"],
            context=json.dumps(request["context"], sort_keys=True),
            differences="; ".join(sorted(differences)),
            _classes="".join(sorted(set(differences.values()))),
        )
        row["_documents"] = (len(documents), len(documents) + 1)
        for path in (pair.new, pair.old):
            with open(corpus / path, encoding="utf-8") as source:
                policy = json.load(source)
            documents.append(
                {"id": len(documents), "policy": policy, "resourcePolicy": ACCOUNT_RESOURCE_POLICY, "request": request}
            )
        rows.append(row)

    responses = ask_oracle(documents)
    for row in rows:
        indexes = row.pop("_documents", None)
        if indexes is None:
            continue
        new_response, old_response = responses[indexes[0]], responses[indexes[1]]
        row.update(new_decision=new_response["decision"] or "", old_decision=old_response["decision"] or "")
        errors = [
            f"{side}: {response['error']}"
            for side, response in (("new", new_response), ("old", old_response))
            if response["error"]
        ]
        row["oracle_error"] = "; ".join(errors)
        classes = row.pop("_classes")
        if errors:
            row["outcome"] = "oracle error"
        elif new_response["decision"] == "Allowed" and old_response["decision"] != "Allowed":
            row["outcome"] = "confirmed"
        else:
            row["outcome"] = "disagreement"
            row["class"] = classes or "unexplained"
    return rows


CLASS_NAMES = {
    CLASS_DOCUMENTED: "the simulator departs from the IAM documentation",
    CLASS_DOC_SILENT: "the IAM documentation leaves the point open",
    CLASS_IAMVERIFY: "iamverify likely departs from the IAM documentation",
}


def summarize(rows: list[dict]) -> list[str]:
    """Return the summary lines: outcome counts, disagreement classes and every row that is not confirmed."""
    outcomes = Counter(row["outcome"] for row in rows)
    lines = [f"refuted pairs replayed: {len(rows)}"]
    lines += [f"  {outcome}: {count}" for outcome, count in sorted(outcomes.items())]

    disagreements = [row for row in rows if row["outcome"] == "disagreement"]
    classes = Counter(row["class"] for row in disagreements)
    lines.append("disagreements by class:")
    lines += [f"  ({letter}) means {name}" for letter, name in CLASS_NAMES.items()]
    lines += [f"  {letters}: {count}" for letters, count in sorted(classes.items())]
    differences = Counter(d for row in disagreements for d in row["differences"].split("; ") if d)
    lines.append("differences found in the disagreements (a row may have several):")
    lines += [f"  {count:3d}  {name}" for name, count in differences.most_common()]

    for row in rows:
        if row["outcome"] == "confirmed":
            continue
        label = f"{row['outcome']} ({row['class']})" if row["class"] else row["outcome"]
        lines.append(f"- {label}: {row['pair']}")
        if row["action"]:
            lines.append(f"    request: action {row['action']!r}, resource {row['resource']!r}, context {row['context']}")
            lines.append(f"    simulator: new {row['new_decision'] or '-'}, old {row['old_decision'] or '-'}")
        if row["oracle_error"]:
            lines.append(f"    simulator error: {row['oracle_error']}")
        if row["differences"]:
            lines.append(f"    differences: {row['differences']}")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"corpus folder holding managed/ (default: {DEFAULT_CORPUS})")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help=f"folder with managed.csv; oracle.csv is written there (default: {RESULTS_DIR})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help="time limit per check in seconds (default: 30)")
    parser.add_argument("--limit", type=int, help="replay only the first N refuted pairs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    managed_csv = args.results / "managed.csv"
    if not managed_csv.is_file():
        print(f"error: {managed_csv} not found; run python benchmarks/run_pairs.py first", file=sys.stderr)
        return 2
    if shutil.which("node") is None:
        print("error: node not found on PATH; install Node 20 or newer", file=sys.stderr)
        return 2
    if not (ORACLE.parent / "node_modules" / "@cloud-copilot" / "iam-simulate").is_dir():
        print(f"error: the simulator is not installed in {ORACLE.parent}; run npm ci --prefix tools/oracle", file=sys.stderr)
        return 2

    pairs = refuted_pairs(managed_csv)[: args.limit]
    rows = confirm(args.corpus, pairs, args.timeout)
    with open(args.results / "oracle.csv", "w", newline="", encoding="utf-8") as output:
        writer = csv.DictWriter(output, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    text = "\n".join(summarize(rows)) + "\n"
    (args.results / "oracle_summary.txt").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
