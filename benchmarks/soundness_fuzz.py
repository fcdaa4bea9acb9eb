"""Fuzz the iamverify CLI with malformed input files and arguments.

The `fuzz` part of `soundness.py`. Inputs come from ten generators. Two of
them write the documents that the hypothesis strategies of
tests/test_fuzz_cli.py draw, as JSON and as YAML. The others put a value of
every wrong type at every path of a valid policy, edit valid policy text at
random, break its UTF-8 or change its encoding, and use YAML features
(aliases, tags, complex keys, several documents). The rest build deep
nesting, long strings, huge numbers, large policies (10 MB, thousands of
statements) and malformed command-line arguments. Each input runs one CLI command
(`validate`, `check`, `compare` or `evaluate`) through click's in-process
runner, and an even sample of them also runs as `python -m verifier` in a
subprocess.

A run is clean when it exits with 0 to 3, prints no traceback and no
`internal error`, prints a message when it exits with 2, and ends within
MAX_SECONDS. Every other run is a failure and is recorded.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

import test_fuzz_cli as fuzz_strategies
from verifier.cli import cli

REPO_ROOT = Path(__file__).resolve().parent.parent
# Time limit of `check` and `compare`, passed as --timeout.
CLI_TIMEOUT_SECONDS = 10
# A run that takes longer than this counts as a hang. Loading and validating
# a 10 MB file is not covered by --timeout, hence the margin.
MAX_SECONDS = 60
MAX_RECORDED = 50
# The form in which the CLI and the reports print an unexpected exception:
# `internal error: TypeName: message`. Matching the exception's type name
# keeps a fuzzed argument that merely contains the words from counting.
INTERNAL_ERROR = re.compile(r"internal error: [A-Za-z_][A-Za-z0-9_.]*: ")

VALID_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Id": "fuzz-base",
    "Statement": [
        {
            "Sid": "AllowRead",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:List*"],
            "Resource": ["arn:aws:s3:::bucket/${aws:username}/*", "arn:aws:s3:::bucket"],
            "Condition": {
                "StringLike": {"s3:prefix": ["home/*", "shared"]},
                "IpAddress": {"aws:SourceIp": "10.0.0.0/8"},
                "Bool": {"aws:SecureTransport": "true"},
                "NumericLessThan": {"aws:MultiFactorAuthAge": 3600},
                "DateGreaterThan": {"aws:CurrentTime": "2024-01-01T00:00:00Z"},
                "ForAnyValue:StringEquals": {"aws:TagKeys": ["team", "env"]},
            },
        },
        {"Effect": "Deny", "NotAction": "iam:*", "NotResource": "arn:aws:iam::*:role/admin"},
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root"], "Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Resource": "*",
        },
    ],
}
SIMPLE_POLICY = {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}
WRONG_VALUES: tuple[Any, ...] = (None, True, 0, -1.5, 10**30, "", "x", [], {}, [None], [[]], {"a": 1}, "\u0000", "\ud800")
SYNTAX_CHARACTERS = '{}[]:,"\'\n\t -#&*!|>%@`\\'
INVALID_UTF8 = (b"\xff", b"\xfe", b"\xc3", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80")


@dataclass
class Case:
    """One fuzz input: a kind, the bytes of the malformed file, its suffix and
    the CLI arguments, in which FILE stands for the malformed file and GOOD
    for a valid policy file."""

    kind: str
    data: bytes
    suffix: str
    args: list[str]
    # Run only as a subprocess: an input that may crash the interpreter in
    # native solver code must not take the in-process runner down with it.
    isolated: bool = False


def command_for(rng: random.Random) -> list[str]:
    choice = rng.randrange(5)
    if choice == 0:
        return ["validate", "FILE"]
    if choice == 1:
        return ["check", "--timeout", str(CLI_TIMEOUT_SECONDS), "GOOD", "FILE"]
    if choice == 2:
        return ["check", "--timeout", str(CLI_TIMEOUT_SECONDS), "--format", "json", "FILE", "GOOD"]
    if choice == 3:
        return ["compare", "--timeout", str(CLI_TIMEOUT_SECONDS), "FILE", "GOOD"]
    return ["evaluate", "FILE", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::bucket/alice/x", "--context", "aws:username=alice"]


def as_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def as_yaml(value: Any) -> bytes:
    return yaml.safe_dump(value, allow_unicode=True).encode("utf-8", "surrogatepass")


# --- generators ----------------------------------------------------------------------


def drawn_documents(count: int, start_seed: int) -> list[Any]:
    """Draw `count` documents from the strategies of the CLI fuzz test."""
    documents: list[Any] = []

    @seed(start_seed)
    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.one_of(fuzz_strategies.policy_like(), fuzz_strategies.JSON_VALUES))
    def collect(document: Any) -> None:
        documents.append(document)

    collect()
    return documents[:count]


def hypothesis_cases(rng: random.Random, count: int, start_seed: int) -> list[Case]:
    cases = []
    for number, document in enumerate(drawn_documents(count, start_seed)):
        if number % 4 == 3:
            cases.append(Case("hypothesis document as YAML", as_yaml(document), ".yaml", command_for(rng)))
        else:
            cases.append(Case("hypothesis document as JSON", as_json(document), ".json", command_for(rng)))
    return cases


def paths_of(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths_of(child, path + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += paths_of(child, path + (index,))
    return found


def replaced(document: Any, path: tuple[Any, ...], new_value: Any) -> Any:
    if not path:
        return new_value
    copy = json.loads(json.dumps(document))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new_value
    return copy


def wrong_type_cases(rng: random.Random) -> list[Case]:
    """Put every value of WRONG_VALUES at every path of VALID_POLICY, as JSON and as YAML."""
    cases = []
    for path in paths_of(VALID_POLICY):
        for value in WRONG_VALUES:
            document = replaced(VALID_POLICY, path, value)
            cases.append(Case("wrong type at a path", as_json(document), ".json", command_for(rng)))
            if rng.random() < 0.3:
                cases.append(Case("wrong type at a path", as_yaml(document), ".yaml", command_for(rng)))
    return cases


def seed_texts() -> list[tuple[bytes, str]]:
    texts = [(as_json(VALID_POLICY), ".json"), (as_yaml(VALID_POLICY), ".yaml")]
    texts.append((json.dumps(VALID_POLICY, indent=2).encode(), ".json"))
    managed = REPO_ROOT / "tests" / "data" / "managed"
    for path in sorted(managed.rglob("*.json"))[:20]:
        if path.name != "pairs.jsonl":
            texts.append((path.read_bytes(), ".json"))
    return texts


def mutate(rng: random.Random, data: bytes) -> bytes:
    """Apply one to four random edits to `data`."""
    for _ in range(rng.randint(1, 4)):
        if not data:
            return data
        position = rng.randrange(len(data))
        operation = rng.randrange(6)
        if operation == 0:
            data = data[:position] + data[position + rng.randint(1, 20) :]
        elif operation == 1:
            data = data[:position] + rng.choice(SYNTAX_CHARACTERS).encode() + data[position:]
        elif operation == 2:
            end = min(len(data), position + rng.randint(1, 40))
            data = data[:end] + data[position:end] + data[end:]
        elif operation == 3:
            data = data[:position]
        elif operation == 4:
            data = data[:position] + bytes([rng.randrange(256)]) + data[position + 1 :]
        else:
            data = data.replace(b'"', b"'", 1) if rng.random() < 0.5 else data.replace(b":", b"", 1)
    return data


def mutation_cases(rng: random.Random, count: int) -> list[Case]:
    texts = seed_texts()
    cases = []
    for _ in range(count):
        data, suffix = rng.choice(texts)
        cases.append(Case("random edit of a valid policy", mutate(rng, data), suffix, command_for(rng)))
    return cases


def encoding_cases(rng: random.Random, count: int) -> list[Case]:
    texts = seed_texts()
    cases = []
    for codec in ("utf-16", "utf-16-le", "utf-32", "latin-1", "cp1252"):
        text = json.dumps({**SIMPLE_POLICY, "Id": "caf\u00e9"}, ensure_ascii=False)
        cases.append(Case(f"policy encoded as {codec}", text.encode(codec), ".json", command_for(rng)))
    for _ in range(count - len(cases)):
        data, suffix = rng.choice(texts)
        position = rng.randrange(len(data) + 1)
        cases.append(Case("invalid UTF-8", data[:position] + rng.choice(INVALID_UTF8) + data[position:], suffix, command_for(rng)))
    return cases


YAML_SNIPPETS = (
    "? [a]\n: b\n",
    "? {a: 1}\n: b\n",
    "Version: '2012-10-17'\nStatement:\n  ? [Effect]\n  : Allow\n",
    "!!python/object/apply:os.system ['true']\n",
    "Version: !!binary aGVsbG8=\nStatement: []\n",
    "Version: '2012-10-17'\nStatement: !!set {a, b}\n",
    "Version: '2012-10-17'\nStatement: !!omap [{Effect: Allow}]\n",
    "Version: '2012-10-17'\nStatement: !custom {Effect: Allow}\n",
    "---\nVersion: '2012-10-17'\n---\nStatement: []\n",
    "Version: '2012-10-17'\nVersion: '2008-10-17'\nStatement: []\n",
    "base: &b {Effect: Allow, Action: 's3:*', Resource: '*'}\nVersion: '2012-10-17'\nStatement: [{<<: *b, Sid: x}]\n",
    "Version: '2012-10-17'\nStatement: *undefined\n",
    "Version: 2012-10-17\nStatement: {Effect: Allow, Action: s3:GetObject, Resource: '*'}\n",
    "Version: '2012-10-17'\nStatement: {Effect: Allow, Action: s3:GetObject, Resource: '*', Condition: {NumericEquals: {test:n: .inf}}}\n",
    "Version: '2012-10-17'\nStatement: {Effect: Allow, Action: s3:GetObject, Resource: '*', Condition: {NumericEquals: {test:n: 0o17}}}\n",
    "Version: '2012-10-17'\nStatement: {Effect: Allow, Action: s3:GetObject, Resource: '*', Condition: {DateEquals: {test:d: 2024-01-01 10:00:00}}}\n",
    "Version: '2012-10-17'\nStatement:\n\t- Effect: Allow\n",
    "Version: '2012-10-17'\nStatement: {Effect: Allow, Action: [s3:GetObject, ~, null], Resource: '*'}\n",
    "1: a\nnull: b\ntrue: c\n",
    "%YAML 1.1\n%TAG ! tag:example.com,2000:\n--- !x\nVersion: '2012-10-17'\n",
    "Version: '2012-10-17'\nStatement: |\n  {\"Effect\": \"Allow\"}\n",
    "\"%7B%22Version%22%3A%222012-10-17%22%7D\"",
    "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D",
    "PolicyVersion: {Document: '{\"Version\": \"2012-10-17\", \"Statement\": 5}'}\n",
    "Role: {AssumeRolePolicyDocument: '%7B%7D'}\n",
)


def build_alias_bomb(levels: int, width: int, leaf: str, place: str) -> str:
    """Build YAML whose aliases expand to width**levels leaves at `place`."""
    lines = [f"l0: &l0 {leaf}"]
    for level in range(1, levels + 1):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    lines.append("Version: '2012-10-17'")
    lines.append(place.replace("BOMB", f"*l{levels}"))
    return "\n".join(lines) + "\n"


def yaml_cases(rng: random.Random) -> list[Case]:
    cases = [Case("YAML feature", snippet.encode(), ".yaml", command_for(rng)) for snippet in YAML_SNIPPETS for _ in range(4)]
    places = (
        "Statement: BOMB",
        "Statement: {Effect: Allow, Action: 's3:GetObject', Resource: '*', Condition: {StringEquals: {'test:k': BOMB}}}",
        "Statement: {Effect: Allow, Action: BOMB, Resource: '*'}",
    )
    for levels in (2, 4, 6, 8, 9):
        for place in places:
            for leaf in ("x", "{Effect: Allow, Action: 's3:GetObject', Resource: '*'}"):
                cases.append(Case("YAML alias expansion", build_alias_bomb(levels, 10, leaf, place).encode(), ".yaml", command_for(rng)))
    return cases


def build_nested(depth: int, kind: str) -> str:
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a": ' * depth + "1" + "}" * depth


def nesting_cases(rng: random.Random) -> list[Case]:
    cases = []
    for depth in (10, 63, 64, 65, 100, 1_000, 10_000, 100_000, 1_000_000):
        for kind in ("list", "object"):
            inner = build_nested(depth, kind)
            cases.append(Case("deep nesting", inner.encode(), ".json", command_for(rng)))
            in_condition = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringEquals": {"test:k": %s}}}}' % inner
            cases.append(Case("deep nesting", in_condition.encode(), ".json", command_for(rng)))
            flow_yaml = "Version: '2012-10-17'\nStatement: " + inner + "\n"
            cases.append(Case("deep nesting", flow_yaml.encode(), ".yaml", command_for(rng)))
        block = "".join("  " * level + f"k{level}:\n" for level in range(min(depth, 20_000))) + "  " * min(depth, 20_000) + "x: 1\n"
        cases.append(Case("deep nesting", block.encode(), ".yaml", command_for(rng)))
    return cases


def long_value_cases(rng: random.Random) -> list[Case]:
    cases = []
    for length in (1_000, 100_000, 1_000_000):
        text = "a" * length
        variants = {
            "Sid": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Sid": text}},
            "Action": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Action": "s3:" + text}},
            "Resource": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Resource": "arn:aws:s3:::" + text + "*"}},
            "wildcards": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Resource": "arn:aws:s3:::" + "*a?" * (length // 3)}},
            "condition key": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Condition": {"StringLike": {"test:" + text: "x"}}}},
            "condition value": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Condition": {"StringLike": {"test:k": text + "*"}}}},
            "operator": {**SIMPLE_POLICY, "Statement": {**SIMPLE_POLICY["Statement"], "Condition": {"String" + text: {"test:k": "x"}}}},
            "Version": {**SIMPLE_POLICY, "Version": text},
            "top-level key": {**SIMPLE_POLICY, text: 1},
        }
        for name, document in variants.items():
            args = command_for(rng)
            cases.append(Case(f"long string in {name}", as_json(document), ".json", args, isolated=True))
        digits = "9" * min(length, 1_000_000)
        for number in (digits, "1e" + digits, "0." + digits, "-" + digits):
            condition = '{"NumericEquals": {"test:n": %s}, "DateEquals": {"test:d": %s}}' % (number, number)
            text_doc = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": %s}}' % condition
            cases.append(Case("huge number", text_doc.encode(), ".json", command_for(rng), isolated=True))
    return cases


def build_statements_policy(count: int, resource_length: int = 20) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": f"S{i}", "Effect": "Allow", "Action": f"s3:Get{i % 97}*", "Resource": f"arn:aws:s3:::b{i}/" + "k" * resource_length + "/*"}
            for i in range(count)
        ],
    }


def large_cases() -> list[Case]:
    """Build policies of 10 MB and of thousands of statements. `check` and
    `compare` get the same file twice, so both sides are large."""
    cases = []
    ten_mb = build_statements_policy(40_000, resource_length=150)
    data = as_json(ten_mb)
    cases.append(Case("10 MB policy", data, ".json", ["validate", "FILE"]))
    cases.append(Case("10 MB policy", data, ".json", ["check", "--timeout", str(CLI_TIMEOUT_SECONDS), "FILE", "FILE"]))
    cases.append(Case("10 MB policy", data[: len(data) // 2], ".json", ["validate", "FILE"]))
    cases.append(Case("10 MB policy", as_yaml(ten_mb), ".yaml", ["validate", "FILE"]))
    for count in (2_000, 5_000, 10_000):
        document = build_statements_policy(count)
        cases.append(Case("thousands of statements", as_json(document), ".json", ["check", "--timeout", str(CLI_TIMEOUT_SECONDS), "FILE", "FILE"]))
        reversed_document = {**document, "Statement": document["Statement"][::-1]}
        cases.append(Case("thousands of statements", as_json(reversed_document), ".json", ["compare", "--timeout", str(CLI_TIMEOUT_SECONDS), "FILE", "FILE"]))
        cases.append(Case("thousands of statements", as_json(document), ".json", ["evaluate", "FILE", "--action", "s3:Get5x", "--resource", "arn:aws:s3:::b5/" + "k" * 20 + "/x"]))
    return cases


def argument_cases(rng: random.Random, count: int, start_seed: int) -> list[Case]:
    """Valid policy files with malformed command-line arguments."""
    good = as_json(VALID_POLICY)
    fixed = [
        ["check", "--timeout", value, "GOOD", "FILE"] for value in ("-1", "0", "nan", "inf", "abc", "1e308", "", "1e-9")
    ]
    fixed += [["evaluate", "FILE", "--action", "s3:GetObject", "--resource", "x", "--context", value] for value in ("", "=", "=x", "k", "k==v", "\u0000=\u0000")]
    fixed += [["check", "FILE"], ["check", "FILE", "FILE", "FILE"], ["compare", "FILE", "/nonexistent/x.json"], ["validate", "FILE", "--format", "xml"], ["check", "FILE", "--known-actions-only", "GOOD"], ["validate", "/"]]
    cases = [Case("malformed arguments", good, ".json", args) for args in fixed]
    texts: list[str] = []

    @seed(start_seed)
    @settings(max_examples=max(1, count - len(cases)), database=None, phases=[Phase.generate], deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(max_size=40))
    def collect(text: str) -> None:
        texts.append(text)

    collect()
    for text in texts:
        safe = text.replace("\x00", "")
        args = rng.choice(
            [
                ["evaluate", "FILE", "--action", safe, "--resource", "arn:aws:s3:::bucket/x"],
                ["evaluate", "FILE", "--action", "s3:GetObject", "--resource", safe],
                ["evaluate", "FILE", "--action", "s3:GetObject", "--resource", "x", "--context", safe],
                ["evaluate", "FILE", "--action", "s3:GetObject", "--resource", "x", "--principal", safe],
                ["check", "--timeout", safe, "GOOD", "FILE"],
            ]
        )
        cases.append(Case("malformed arguments", good, ".json", args))
    return cases[:count]


def all_cases(target: int, start_seed: int) -> list[Case]:
    rng = random.Random(start_seed)
    large = large_cases()
    for case in large:
        case.isolated = True
    cases = wrong_type_cases(rng) + yaml_cases(rng) + nesting_cases(rng) + long_value_cases(rng) + large
    cases += encoding_cases(rng, 1_000)
    cases += argument_cases(rng, 500, start_seed)
    cases += hypothesis_cases(rng, 3_000, start_seed)
    cases += mutation_cases(rng, max(0, target - len(cases)))
    return cases


# --- running ----------------------------------------------------------------------------


@dataclass
class Outcome:
    exit_code: int | None
    output: str
    seconds: float
    exception: str | None = None


def problem_of(outcome: Outcome) -> str | None:
    """Return why a run is not clean, or None for a clean run."""
    if outcome.exception is not None:
        return f"raised {outcome.exception}"
    if outcome.exit_code not in (0, 1, 2, 3):
        return f"exit status {outcome.exit_code}"
    if "Traceback" in outcome.output:
        return "printed a traceback"
    if INTERNAL_ERROR.search(outcome.output):
        return "printed an internal error"
    if outcome.exit_code == 2 and not outcome.output.strip():
        return "exit 2 without a message"
    if outcome.seconds > MAX_SECONDS:
        return f"took {outcome.seconds:.0f} s"
    return None


def arguments(case: Case, folder: Path, number: int) -> list[str]:
    path = folder / f"input{number % 2}{case.suffix}"
    path.write_bytes(case.data)
    good = folder / "good.json"
    substitutions = {"FILE": str(path), "GOOD": str(good)}
    return [substitutions.get(arg, arg) for arg in case.args]


def run_in_process(args: list[str]) -> Outcome:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, args)
    seconds = time.perf_counter() - started
    exception = None
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        exception = f"{type(result.exception).__name__}: {str(result.exception)[:200]}"
    return Outcome(result.exit_code, result.output, seconds, exception)


def run_subprocess(args: list[str]) -> Outcome:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "verifier", *args],
            capture_output=True,
            timeout=MAX_SECONDS,
            env=environment,
        )
    except subprocess.TimeoutExpired as error:
        return Outcome(None, "", time.perf_counter() - started, f"no exit within {error.timeout} s")
    output = (completed.stdout + completed.stderr).decode("utf-8", "replace")
    return Outcome(completed.returncode, output, time.perf_counter() - started)


def run_fuzz(target: int, start_seed: int, subprocess_runs: int) -> dict[str, Any]:
    cases = all_cases(target, start_seed)
    counts: Counter[str] = Counter()
    exits: Counter[str] = Counter()
    slowest: dict[str, float] = {}
    failures: list[dict[str, Any]] = []
    step = max(1, len(cases) // max(1, subprocess_runs))
    with tempfile.TemporaryDirectory(prefix="iamverify-fuzz-") as name:
        folder = Path(name)
        (folder / "good.json").write_bytes(as_json(VALID_POLICY))
        for number, case in enumerate(cases):
            args = arguments(case, folder, number)
            runners = [] if case.isolated else [("in process", run_in_process)]
            if case.isolated or (number % step == 0 and counts["subprocess runs"] < subprocess_runs):
                runners.append(("subprocess", run_subprocess))
            for mode, runner in runners:
                outcome = runner(args)
                counts["in-process runs" if mode == "in process" else "subprocess runs"] += 1
                exits[f"{case.kind}: exit {outcome.exit_code}"] += 1
                slowest[case.kind] = max(slowest.get(case.kind, 0.0), outcome.seconds)
                problem = problem_of(outcome)
                if problem is None:
                    continue
                counts["failures"] += 1
                if len(failures) < MAX_RECORDED:
                    failures.append(
                        {
                            "kind": case.kind,
                            "mode": mode,
                            "problem": problem,
                            "args": case.args,
                            "input_start": case.data[:300].decode("utf-8", "replace"),
                            "input_bytes": len(case.data),
                            "output_end": outcome.output[-600:],
                        }
                    )
            if (number + 1) % 1000 == 0:
                print(f"  {number + 1} of {len(cases)} inputs, {counts['failures']} failures", flush=True)
    counts["inputs"] = len(cases)
    return {
        "counts": dict(counts),
        "exit codes by kind": dict(sorted(exits.items())),
        "slowest run by kind (s)": {kind: round(seconds, 2) for kind, seconds in sorted(slowest.items())},
        "failures": failures,
    }
