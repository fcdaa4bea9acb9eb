"""Client for the independent IAM evaluator in `tools/oracle/run.mjs`.

`run.mjs` wraps `@cloud-copilot/iam-simulate` 0.1.173. It reads one JSON
object per line on stdin and writes one JSON line per request, in input order,
with `decision` set to `Allowed`, `ImplicitlyDenied`, `ExplicitlyDenied`, or
null together with an `error` message. `Oracle` keeps one Node process open
and sends each batch of requests in one write.

The package needs `node` on PATH and `npm ci --prefix tools/oracle`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from verifier.evaluate import Request

REPO_ROOT = Path(__file__).resolve().parent.parent
ORACLE_DIR = REPO_ROOT / "tools" / "oracle"
RUNNER = ORACLE_DIR / "run.mjs"
SIMULATOR_PACKAGE = ORACLE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate"
INSTALL_COMMAND = "npm ci --prefix tools/oracle"

# Seconds to wait for the Node process to exit after its stdin is closed.
EXIT_TIMEOUT_SECONDS = 10


class OracleError(RuntimeError):
    """The Node process stopped, or returned output that does not fit its contract."""


def missing_requirement() -> str | None:
    """Return why the oracle cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "`node` was not found on PATH (Node 20 or newer is needed)"
    if not SIMULATOR_PACKAGE.is_dir():
        return f"{SIMULATOR_PACKAGE.relative_to(REPO_ROOT)} is missing"
    return None


def oracle_input(policy: dict[str, Any], request: Request) -> dict[str, Any]:
    """Convert a policy document and a `Request` into one input object of run.mjs.

    A tuple of context values becomes a JSON list, which the simulator reads
    as a multivalued key. The policy is the request's only identity policy.
    """
    context = {
        key: list(value) if isinstance(value, tuple) else value for key, value in request.context.items()
    }
    oracle_request: dict[str, Any] = {
        "action": request.action,
        "resource": request.resource,
        "context": context,
    }
    if request.principal is not None:
        oracle_request["principal"] = request.principal
    return {"policy": policy, "request": oracle_request}


class Oracle:
    """One long-running `node tools/oracle/run.mjs` process."""

    def __init__(self) -> None:
        # stderr goes to a file, so that a process that writes much of it can
        # never block on a full pipe. Its text is shown when the process fails.
        self._stderr = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        self._process = subprocess.Popen(
            ["node", str(RUNNER)],
            cwd=ORACLE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            encoding="utf-8",
        )
        self._next_id = 0

    def __enter__(self) -> Oracle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def decide(self, policy: dict[str, Any], requests: list[Request]) -> list[dict[str, Any]]:
        """Return the run.mjs response for each request under `policy`, in order."""
        return self.decide_inputs([oracle_input(policy, request) for request in requests])

    def decide_inputs(self, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send run.mjs input objects in one batch and return their responses in order.

        Each object gets a fresh `id`, which the response must echo.
        """
        first_id = self._next_id
        lines = []
        for offset, document in enumerate(inputs):
            lines.append(json.dumps({**document, "id": first_id + offset}) + "\n")
        self._next_id += len(inputs)

        # A writer thread sends the batch while this thread reads, so a batch
        # larger than the pipe buffers cannot deadlock the two processes.
        writer_errors: list[BaseException] = []
        writer = threading.Thread(target=self._write, args=("".join(lines), writer_errors))
        writer.start()
        responses = [self._read_response(first_id + offset) for offset in range(len(inputs))]
        writer.join()
        if writer_errors:
            raise self._failure(f"writing to {RUNNER.name} failed: {writer_errors[0]}")
        return responses

    def close(self) -> None:
        """Close stdin and wait for the process to exit, killing it after a timeout."""
        if self._process.stdin and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self._process.wait(timeout=EXIT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()
        self._stderr.close()

    def _write(self, text: str, errors: list[BaseException]) -> None:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(text)
            self._process.stdin.flush()
        except OSError as error:
            errors.append(error)

    def _read_response(self, expected_id: int) -> dict[str, Any]:
        assert self._process.stdout is not None
        # NOTE: the read has no timeout, so a Node process that hangs without
        # exiting also hangs the caller.
        line = self._process.stdout.readline()
        if not line:
            raise self._failure(f"{RUNNER.name} closed its output before it returned the response to request {expected_id}")
        try:
            response = json.loads(line)
        except json.JSONDecodeError as error:
            raise self._failure(f"{RUNNER.name} returned a line that is not JSON ({error}): {line!r}") from None
        if response.get("id") != expected_id:
            raise self._failure(
                f"{RUNNER.name} returned responses out of order: expected id {expected_id}, got {response.get('id')!r}"
            )
        return response

    def _failure(self, message: str) -> OracleError:
        self._stderr.flush()
        self._stderr.seek(0)
        stderr = self._stderr.read().strip()
        status = self._process.poll()
        details = f" (exit status {status})" if status is not None else ""
        if stderr:
            details += f"; stderr:\n{stderr}"
        return OracleError(message + details)
