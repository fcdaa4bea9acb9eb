"""The one place that decides satisfiability: timeouts, seeds, the solver
portfolio and the three verdicts.

Queries are built as z3 terms. z3 gets a short first attempt; when it gives
no answer, the same query goes as SMT-LIB2 text to cvc5, whose string solver
handles the regular-expression constraints of IAM patterns far faster on
some queries (a refuted managed-policy pair that z3 5.4 cannot settle in
30 s takes cvc5 0.03 s). cvc5 runs in a child process, which is killed
when a query overruns its deadline. A cvc5 model is copied into a z3 model
and every assertion is evaluated in it, so the model the rest of the
program reads is a z3 model that both solvers accept.
"""

from __future__ import annotations

import atexit
import functools
import importlib.util
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

import z3

from verifier.encode.logic import literal

logger = logging.getLogger(__name__)

SEED = 0
# Milliseconds for z3's first attempt before cvc5 takes over.
Z3_FIRST_ATTEMPT_MS = 150


class Verdict(str, Enum):
    """Outcome of a property check."""

    PROVED = "proved"  # the property holds for every request
    REFUTED = "refuted"  # a request violates it; a counterexample is attached
    UNKNOWN = "unknown"  # no verdict: timeout or a construct the encoder rejects


@dataclass
class SolveResult:
    status: z3.CheckSatResult
    model: z3.ModelRef | None
    reason: str | None
    seconds: float
    solver: str = "z3"


class Deadline:
    """Wall-clock budget shared by all solver calls of one command."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def remaining_ms(self) -> int:
        return max(0, int((self.end - time.monotonic()) * 1000))

    def expired(self) -> bool:
        return self.remaining_ms() == 0


def solve(
    assertions: list[z3.BoolRef],
    deadline: Deadline,
    variables: list[z3.ExprRef],
    z3_first_ms: int = Z3_FIRST_ATTEMPT_MS,
    z3_last: bool = True,
    verified: list[z3.BoolRef] | None = None,
) -> SolveResult:
    """Check satisfiability of the conjunction within the remaining budget.

    `variables` lists every constant the assertions use; a cvc5 model is
    transferred to z3 through them. `z3_first_ms` is z3's first attempt;
    0 sends the query to cvc5 first, for queries close to one that z3 could
    not settle. `z3_last=False` leaves out the final z3 attempt. `verified`
    names the assertions a cvc5 model must satisfy in z3 (all by default).
    """
    started = time.monotonic()
    first = _z3_check(assertions, min(z3_first_ms, deadline.remaining_ms())) if z3_first_ms > 0 else SolveResult(z3.unknown, None, "skipped", 0.0)
    if first.status != z3.unknown or deadline.expired():
        first.seconds = time.monotonic() - started
        return first
    second = _cvc5_check(assertions, deadline.remaining_ms(), variables, verified)
    if second.status != z3.unknown or not z3_last:
        second.seconds = time.monotonic() - started
        return second
    last = _z3_check(assertions, deadline.remaining_ms())
    last.seconds = time.monotonic() - started
    if last.status == z3.unknown:
        last.reason = "timed out" if deadline.expired() else f"z3: {last.reason}; cvc5: {second.reason}"
    return last


def _z3_check(assertions: list[z3.BoolRef], budget_ms: int) -> SolveResult:
    if budget_ms <= 0:
        return SolveResult(z3.unknown, None, "timed out", 0.0)
    solver = z3.Solver()
    solver.set("timeout", budget_ms)
    solver.set("random_seed", SEED)
    solver.add(*assertions)
    # NOTE: z3 5.4.1 does not always honour this timeout: on readable-
    # counterexample queries it ran 26 s past 150 ms, which is why those go
    # to cvc5 alone (`verifier.check._solve_readable`).
    status = solver.check()
    if status == z3.sat:
        return SolveResult(status, solver.model(), None, 0.0)
    if status == z3.unsat:
        return SolveResult(status, None, None, 0.0)
    reason = solver.reason_unknown()
    return SolveResult(status, None, "timed out" if reason in ("timeout", "canceled") else reason, 0.0)


def to_smtlib(assertions: list[z3.BoolRef]) -> str:
    """SMT-LIB2 text of the query, without `check-sat`."""
    solver = z3.Solver()
    solver.add(*assertions)
    text = solver.to_smt2()
    return text.replace("(check-sat)", "")


# Size of the SMT-LIB text above which z3 does not re-check a cvc5 model.
MAX_VERIFIED_QUERY_CHARS = 50_000


# Seconds a cvc5 query may run past its budget before its process is killed.
CVC5_GRACE_SECONDS = 0.5


class _Cvc5Worker:
    """A `verifier.cvc5_worker` process that solves queries one at a time.

    The process starts on the first query and serves the following ones. A
    query that runs past its budget and the grace time kills it, and the next
    query starts a new one. Replies are read on a thread so that waiting
    for them can time out on every platform.
    """

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "verifier.cvc5_worker"]
        self.owner_pid = os.getpid()
        self.process: subprocess.Popen[str] | None = None
        self.replies: queue.Queue[str | None] = queue.Queue()

    def run(self, smt: str, budget_ms: int, names: list[str]) -> dict[str, Any]:
        process = self._started()
        request = {"smt": smt, "budget_ms": budget_ms, "seed": SEED, "names": names}
        try:
            assert process.stdin is not None
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            reply = self.replies.get(timeout=budget_ms / 1000 + CVC5_GRACE_SECONDS)
        except queue.Empty:
            logger.warning("cvc5 ran past its time limit of %d ms; stopping its process", budget_ms)
            self.stop()
            return {"status": "unknown", "reason": "timed out"}
        except OSError as error:
            reply = None
            logger.warning("sending a query to cvc5 failed: %s", error)
        if reply is None:
            try:
                code = process.wait(timeout=CVC5_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                code = None
            self.stop()
            return {"status": "unknown", "reason": f"cvc5 stopped unexpectedly (exit code {code})"}
        return json.loads(reply)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or self.owner_pid != os.getpid():
            return
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()

    def _started(self) -> subprocess.Popen[str]:
        if self.process is not None and self.process.poll() is None:
            return self.process
        self.stop()
        # The package's parent directory goes first on the child's path, so
        # the child runs this copy of the package, installed or not.
        package_parent = str(Path(__file__).resolve().parent.parent)
        environment = dict(os.environ)
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, environment.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            encoding="ascii",
            env=environment,
        )
        self.replies = queue.Queue()
        threading.Thread(target=_forward_lines, args=(self.process.stdout, self.replies), daemon=True).start()
        return self.process


def _forward_lines(stream, replies: queue.Queue[str | None]) -> None:
    try:
        for line in stream:
            replies.put(line)
    except (OSError, ValueError):
        pass
    replies.put(None)


_WORKER: _Cvc5Worker | None = None


@functools.cache
def _cvc5_installed() -> bool:
    # The parent never imports cvc5, so without the cache every fallback
    # query would search sys.path again.
    return importlib.util.find_spec("cvc5") is not None


def _worker() -> _Cvc5Worker:
    """Return this process's cvc5 worker, a new one after a fork."""
    global _WORKER
    if _WORKER is None or _WORKER.owner_pid != os.getpid():
        _WORKER = _Cvc5Worker()
        atexit.register(_WORKER.stop)
    return _WORKER


def _cvc5_check(
    assertions: list[z3.BoolRef], budget_ms: int, variables: list[z3.ExprRef], verified: list[z3.BoolRef] | None = None
) -> SolveResult:
    if budget_ms <= 0:
        return SolveResult(z3.unknown, None, "timed out", 0.0, "cvc5")
    if not _cvc5_installed():
        return SolveResult(z3.unknown, None, "cvc5 is not installed", 0.0, "cvc5")
    text = to_smtlib(assertions)
    names = {variable.decl().name(): variable for variable in variables}
    reply = _worker().run(text, budget_ms, list(names))
    if reply["status"] == "unsat":
        return SolveResult(z3.unsat, None, None, 0.0, "cvc5")
    if reply["status"] != "sat":
        return SolveResult(z3.unknown, None, reply["reason"], 0.0, "cvc5")
    model = z3.Model()
    for name, (sort_name, value) in reply["values"].items():
        model.update_value(names[name], _to_z3(sort_name, value, names[name]))
    # z3 must agree that the model satisfies every assertion. With every
    # constant fixed, evaluation settles this without a search, but z3 5.4.1
    # has no time limit for it and took minutes on queries with strings of
    # 100,000 characters. Above MAX_VERIFIED_QUERY_CHARS the check is left
    # out: every model becomes a counterexample that the concrete evaluator
    # replays before output, so a wrong model still never reaches the user.
    if len(text) > MAX_VERIFIED_QUERY_CHARS:
        return SolveResult(z3.sat, model, None, 0.0, "cvc5")
    for assertion in assertions if verified is None else verified:
        if not z3.is_true(model.eval(assertion, model_completion=True)):
            logger.warning("z3 rejects the model that cvc5 found; treating the query as unanswered")
            return SolveResult(z3.unknown, None, "z3 and cvc5 disagree on a model", 0.0, "cvc5")
    return SolveResult(z3.sat, model, None, 0.0, "cvc5")


def _to_z3(sort_name: str, value: str, variable: z3.ExprRef) -> z3.ExprRef:
    sort = variable.sort()
    if sort_name == "String" and sort == z3.StringSort():
        return literal(value)
    if sort_name == "Bool" and sort == z3.BoolSort():
        return z3.BoolVal(value == "true")
    if sort_name == "Int" and sort == z3.IntSort():
        return z3.IntVal(int(value))
    if sort_name in ("Int", "Real") and sort == z3.RealSort():
        fraction = Fraction(value)
        return z3.Q(fraction.numerator, fraction.denominator)
    if sort_name == "BitVec" and z3.is_bv_sort(sort):
        return z3.BitVecVal(int(value), sort.size())
    raise TypeError(f"no conversion of a cvc5 {sort_name} value to z3 sort {sort}")
