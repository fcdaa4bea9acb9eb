"""Child process that runs cvc5 queries for `verifier.solver`.

cvc5 does not always honour its own time limit: on a query with a string
constant of 1,000,000 characters, `checkSat` was still running after 40 s
under a 10 s `tlimit-per` (cvc5 1.4.2). In a separate process a query can be stopped at its deadline
by killing the process, and a crash of cvc5 cannot take the command down.

Protocol: one JSON object per line on stdin and stdout. A request contains
`smt` (SMT-LIB2 declarations and assertions, without `check-sat`),
`budget_ms`, `seed` and `names`, the constants whose model values the
parent needs. The reply contains `status` (`sat`, `unsat` or `unknown`),
`reason`, and for `sat` the `values`: for each name that cvc5 declared a
pair of its sort (`String`, `Bool`, `Int`, `Real` or `BitVec`) and its
value as text. A model value that cvc5 cannot write as a constant makes the
reply `unknown`.

This module imports nothing from the rest of the package and not z3, so the
process starts in about the time the Python interpreter takes.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import cvc5

# Reason of the reply when a model value is a term that is not a constant.
UNREADABLE_MODEL = "cvc5: a model value could not be read"


def run_query(request: dict[str, Any]) -> dict[str, Any]:
    """Solve one query and return the reply object."""
    manager = cvc5.TermManager()
    solver = cvc5.Solver(manager)
    solver.setOption("produce-models", "true")
    solver.setOption("tlimit-per", str(request["budget_ms"]))
    solver.setOption("seed", str(request["seed"]))
    solver.setLogic("ALL")
    symbols = cvc5.SymbolManager(manager)
    parser = cvc5.InputParser(solver, symbols)
    parser.setStringInput(cvc5.InputLanguage.SMT_LIB_2_6, request["smt"], "query")
    while True:
        command = parser.nextCommand()
        if command.isNull():
            break
        command.invoke(solver, symbols)

    result = solver.checkSat()
    if result.isUnsat():
        return {"status": "unsat", "reason": None}
    if not result.isSat():
        return {"status": "unknown", "reason": f"cvc5: {result.getUnknownExplanation()}"}

    declared = {str(term): term for term in symbols.getDeclaredTerms()}
    values: dict[str, list[str]] = {}
    for name in request["names"]:
        term = declared.get(name) or declared.get(f"|{name}|")
        if term is None:
            continue
        try:
            values[name] = _value_text(solver.getValue(term))
        except RuntimeError:
            # cvc5 1.4.2 writes a string longer than its model limit (65,536
            # characters) as a witness term, which has no constant value.
            return {"status": "unknown", "reason": UNREADABLE_MODEL}
    return {"status": "sat", "reason": None, "values": values}


def _value_text(value: cvc5.Term) -> list[str]:
    sort = value.getSort()
    if sort.isString():
        return ["String", value.getStringValue()]
    if sort.isBoolean():
        return ["Bool", "true" if value.getBooleanValue() else "false"]
    if sort.isInteger():
        return ["Int", str(value.getIntegerValue())]
    if sort.isReal():
        return ["Real", str(value.getRealValue())]
    if sort.isBitVector():
        return ["BitVec", value.getBitVectorValue(10)]
    raise RuntimeError(f"no text form for a cvc5 value of sort {sort}")


def main() -> None:
    for line in sys.stdin:
        try:
            reply = run_query(json.loads(line))
        except RuntimeError as error:
            # cvc5 raises RuntimeError for text it cannot parse and for
            # options it rejects. The parent reports the query as unknown
            # with this reason, and the process serves the next query.
            reply = {"status": "unknown", "reason": f"cvc5 failed: {error}"}
        # ensure_ascii keeps lone surrogates of cvc5 strings as \\u escapes,
        # which json.loads in the parent turns back into the same string.
        sys.stdout.write(json.dumps(reply, ensure_ascii=True) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
