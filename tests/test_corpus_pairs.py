"""No-new-access checks on real AWS managed policy versions.

The pairs and their expected verdicts are listed in
`tests/data/managed/pairs.jsonl`. `tests/data/managed/README.md` gives their
source and how the verdicts were set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verifier.check import check_no_new_access
from verifier.evaluate import evaluate
from verifier.policy.parse import load_policy_file
from verifier.solver import Verdict

MANAGED_DIR = Path(__file__).parent / "data" / "managed"
PAIRS = [json.loads(line) for line in (MANAGED_DIR / "pairs.jsonl").read_text(encoding="utf-8").splitlines()]
# Generous for these small documents, each of which checks in under a
# second, so that a slow CI machine does not turn a verdict into UNKNOWN.
TIMEOUT_SECONDS = 60


def pair_id(pair: dict[str, Any]) -> str:
    old_version = pair["old"].split("/")[-1].removesuffix(".json")
    new_version = pair["new"].split("/")[-1].removesuffix(".json")
    return f"{pair['policy']}-{old_version}-{new_version}"


@pytest.mark.parametrize("pair", PAIRS, ids=[pair_id(pair) for pair in PAIRS])
def test_pair_verdict(pair):
    old = load_policy_file(MANAGED_DIR / pair["old"])
    new = load_policy_file(MANAGED_DIR / pair["new"])

    result = check_no_new_access(old, new, timeout=TIMEOUT_SECONDS)

    assert result.verdict is Verdict(pair["expected"]), result.reason
    if result.verdict is Verdict.REFUTED:
        counterexample = result.counterexample
        assert counterexample is not None
        assert evaluate(new, counterexample).allowed is True
        assert evaluate(old, counterexample).allowed is False


def test_pairs_cover_both_verdicts():
    verdicts = [pair["expected"] for pair in PAIRS]

    assert verdicts.count("proved") >= 4
    assert verdicts.count("refuted") >= 4


def test_every_vendored_document_is_in_a_pair():
    listed = {pair[side] for pair in PAIRS for side in ("old", "new")}
    stored = {path.relative_to(MANAGED_DIR).as_posix() for path in MANAGED_DIR.glob("*/*.json")}

    assert stored == listed
