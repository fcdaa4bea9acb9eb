"""Run every SMT-LIB2 example under encodings/smt2 with z3 and cvc5.

Each file starts with `; expected: sat` or `; expected: unsat`, and both
solvers must return that result. The module also checks that `encodings/`
stays a plain folder: a package of that name would shadow Python's codec
package `encodings`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import cvc5
import pytest
import z3

REPO = Path(__file__).resolve().parent.parent
ENCODINGS = REPO / "encodings"
EXAMPLES = sorted((ENCODINGS / "smt2").rglob("*.smt2"))
EXPECTED = re.compile(r"^; expected: (sat|unsat)$")
# Time limit per solver call, in milliseconds. It only guards against a hang:
# each example takes well under a second with z3 5.4.1 and cvc5 1.4.2.
TIMEOUT_MS = 10_000


def expected_status(path: Path) -> str:
    """Read `sat` or `unsat` from the file's first line."""
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    match = EXPECTED.match(first_line)
    if match is None:
        raise ValueError(f"{path}: first line must be `; expected: sat` or `; expected: unsat`, found {first_line!r}")
    return match.group(1)


def run_z3(path: Path) -> str:
    solver = z3.Solver()
    solver.set("timeout", TIMEOUT_MS)
    solver.from_file(str(path))
    return str(solver.check())


def run_cvc5(path: Path) -> str:
    """Parse the file with cvc5's InputParser, run every command except
    `check-sat`, then check satisfiability once."""
    manager = cvc5.TermManager()
    solver = cvc5.Solver(manager)
    solver.setOption("tlimit-per", str(TIMEOUT_MS))
    symbols = cvc5.SymbolManager(manager)
    parser = cvc5.InputParser(solver, symbols)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, path.read_text(encoding="utf-8"), str(path))
    while True:
        command = parser.nextCommand()
        if command.isNull():
            break
        if command.getCommandName() == "check-sat":
            continue
        command.invoke(solver, symbols)
    result = solver.checkSat()
    if result.isSat():
        return "sat"
    if result.isUnsat():
        return "unsat"
    return f"unknown ({result.getUnknownExplanation()})"


def example_id(path: Path) -> str:
    return str(path.relative_to(ENCODINGS / "smt2"))


def test_examples_exist() -> None:
    assert len(EXAMPLES) >= 15, f"expected at least 15 .smt2 files under {ENCODINGS / 'smt2'}, found {len(EXAMPLES)}"


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_z3_matches_expected(path: Path) -> None:
    assert run_z3(path) == expected_status(path)


@pytest.mark.parametrize("path", EXAMPLES, ids=example_id)
def test_cvc5_matches_expected(path: Path) -> None:
    assert run_cvc5(path) == expected_status(path)


def test_encodings_has_no_init_file() -> None:
    assert not (ENCODINGS / "__init__.py").exists()


def test_encodings_import_is_codec_package() -> None:
    import encodings

    assert callable(encodings.search_function)
    assert Path(encodings.__file__).resolve().parent != ENCODINGS.resolve()


def test_encodings_import_with_repo_on_path() -> None:
    # With the repository on PYTHONPATH, a package `encodings/` there would
    # be found before the standard library at interpreter start-up.
    script = (
        "import codecs, encodings; "
        "assert callable(encodings.search_function); "
        "codecs.lookup('utf-8'); "
        "print(encodings.__file__)"
    )
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).resolve().parent != ENCODINGS.resolve()
