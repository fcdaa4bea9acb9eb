"""z3 and cvc5 agree on the queries behind `check`.

Each slice query of a policy pair is exported as SMT-LIB2 text and solved by
cvc5, and solved by z3 on its own; every pair of definite answers must agree.
"""

import json
import sys
from pathlib import Path

import pytest
import z3

from verifier.check import NoNewAccessProblem, _slices
from verifier.policy.parse import load_policy_file, parse_policy_text
from verifier.solver import _cvc5_check, _z3_check

DATA = Path(__file__).parent / "data" / "managed"
BUDGET_MS = 10_000

HAND_PAIRS = {
    "condition-widened": (
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringLike": {"s3:prefix": "home/*"}}},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"StringLike": {"s3:prefix": "*"}}},
    ),
    "arn-segments": (
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::*:role/app-*"},
        {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/*"},
    ),
    "variables": (
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}/*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:username}*"},
    ),
    "ip-and-dates": (
        {"Effect": "Allow", "Action": "ec2:*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}},
        {"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "10.1.0.0/16"}, "DateLessThan": {"aws:CurrentTime": "1893456000"}}},
    ),
    "sets": (
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}},
        {"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*", "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}},
    ),
}


# Pairs whose only solver query z3 5.4.1 leaves unknown after the whole
# budget (cvc5 returns sat in 0.16 s), so they add 10 s and no comparison.
Z3_UNDECIDED_PAIRS = {"AWSServiceCatalogAdminFullAccess-v6-v5-20190206"}


def corpus_pairs() -> list[tuple[str, object, object]]:
    pairs = []
    for line in (DATA / "pairs.jsonl").read_text().splitlines():
        row = json.loads(line)
        name = f"{row['policy']}-{Path(row['old']).stem}-{Path(row['new']).stem}"
        if name in Z3_UNDECIDED_PAIRS:
            continue
        old, new = (load_policy_file(DATA / row[side]) for side in ("old", "new"))
        pairs.append((name, old, new))
    for name, (old_statement, new_statement) in HAND_PAIRS.items():
        old = parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": [old_statement]}))
        new = parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": [new_statement]}))
        pairs.append((name, old, new))
        pairs.append((f"{name}-reversed", new, old))
    return pairs


PAIRS = corpus_pairs()


@pytest.mark.parametrize(("old", "new"), [(old, new) for _, old, new in PAIRS], ids=[name for name, _, _ in PAIRS])
def test_solvers_agree_on_slice_queries(old, new):
    problem = NoNewAccessProblem(old, new)
    for allow in problem.new_allows:
        for action_slice in _slices(allow):
            assertions = problem.assertions(allow, action_slice)
            if assertions is None:
                continue
            by_z3 = _z3_check(assertions, BUDGET_MS).status
            by_cvc5 = _cvc5_check(assertions, BUDGET_MS, problem.request.variables()).status
            if z3.unknown in (by_z3, by_cvc5):
                continue
            assert by_z3 == by_cvc5, f"{allow.statement.path}: z3 {by_z3}, cvc5 {by_cvc5}"


def test_large_query_skips_the_z3_model_check(monkeypatch):
    # z3 has no time limit for evaluating a model, and took minutes on
    # strings of 100,000 characters; the concrete replay covers the model.
    from verifier import solver as solver_module

    text = z3.String("text")
    assertions = [z3.Length(text) == 3]
    evaluated: list[object] = []
    original_eval = z3.ModelRef.eval

    def counting_eval(self, *args, **kwargs):
        evaluated.append(args[0])
        return original_eval(self, *args, **kwargs)

    monkeypatch.setattr(z3.ModelRef, "eval", counting_eval)
    assert solver_module._cvc5_check(assertions, 5000, [text]).status == z3.sat
    assert evaluated
    evaluated.clear()
    monkeypatch.setattr(solver_module, "MAX_VERIFIED_QUERY_CHARS", 10)
    assert solver_module._cvc5_check(assertions, 5000, [text]).status == z3.sat
    assert not evaluated


def test_unreadable_cvc5_model_value_is_unknown():
    # cvc5 1.4.2 writes a string beyond its model limit (65,536 characters)
    # as a witness term, which has no constant value.
    from verifier import solver as solver_module

    text = z3.String("text")
    result = solver_module._cvc5_check([z3.Length(text) == 70_000], 5000, [text])
    assert result.status == z3.unknown
    assert result.reason == "cvc5: a model value could not be read"


def test_cvc5_model_values_of_every_sort():
    from verifier import solver as solver_module

    real, integer, flag, vector, text = z3.Real("r"), z3.Int("i"), z3.Bool("b"), z3.BitVec("v", 32), z3.String("s")
    assertions = [real * 3 == 1, integer > 2**70, flag, vector == 7, text == z3.StringVal("\ud800|x")]
    result = solver_module._cvc5_check(assertions, 5000, [real, integer, flag, vector, text])
    assert result.status == z3.sat
    for assertion in assertions:
        assert z3.is_true(result.model.eval(assertion))


def test_cvc5_worker_killed_past_budget():
    from verifier import solver as solver_module

    worker = solver_module._Cvc5Worker([sys.executable, "-c", "import time; time.sleep(60)"])
    process = worker._started()
    reply = worker.run("", 100, [])
    assert reply == {"status": "unknown", "reason": "timed out"}
    assert worker.process is None
    assert process.returncode is not None


def test_cvc5_worker_crash_is_unknown():
    from verifier import solver as solver_module

    worker = solver_module._Cvc5Worker([sys.executable, "-c", "import sys; sys.stdin.readline(); sys.exit(7)"])
    reply = worker.run("", 5000, [])
    assert reply == {"status": "unknown", "reason": "cvc5 stopped unexpectedly (exit code 7)"}
    assert worker.process is None


def test_cvc5_worker_reports_parse_error():
    from verifier import solver as solver_module

    worker = solver_module._Cvc5Worker()
    broken = worker.run("(declare-const x Int) (assert (> x", 5000, ["x"])
    after = worker.run("(declare-const x Int) (assert (> x 3))", 5000, ["x"])
    worker.stop()

    assert broken["status"] == "unknown"
    assert broken["reason"].startswith("cvc5 failed: ")
    assert after == {"status": "sat", "reason": None, "values": {"x": ["Int", "4"]}}


def test_cvc5_worker_restarts_after_kill():
    from verifier import solver as solver_module

    text = z3.String("text")
    solver_module._worker().stop()
    assert solver_module._cvc5_check([z3.Length(text) == 3], 5000, [text]).status == z3.sat
    solver_module._worker().stop()
    assert solver_module._cvc5_check([z3.Length(text) == 4], 5000, [text]).status == z3.sat
