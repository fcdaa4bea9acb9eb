"""Compare the new-access listing with action-by-action concrete evaluation.

For a deterministic sample of refuted managed-policy pairs, the script runs
`list_new_access(old, new)` and then probes every catalog action that an
Allow statement of the new version matches. Each probe is a concrete request
decided by `verifier.evaluate.evaluate` against both versions.

* Completeness: when a probe request is allowed by the new version and not
  by the old one, its action must be listed. Otherwise the request is
  reported as a miss.
* Soundness: every listed action must name at least one granting statement
  and must be one of the probed actions. The script also counts how many
  listed actions a probe request confirms. The probes are naive, so a listed
  action that no probe confirms is not an error.

Probe requests for an action A combine these resources and contexts:

* resources: each Resource and NotResource pattern of the statements of
  either version whose Action element matches A. In each pattern, `*` and
  `?` become `x`, and each policy variable becomes a value that is also put
  in the request context. The ARN `*` is added, and so is the first ARN
  format of each resource type that the catalog lists for A, with its
  placeholders filled in.
* contexts: an empty one and, for each new Allow statement of A with
  conditions, up to five that satisfy those conditions when they are read
  one at a time. The k-th of them takes the k-th value of each condition.

Pairs are ordered by probe cost, the number of probed actions times the
number of action patterns in both versions. The sample takes pairs at even
steps from the cheapest three quarters. Probing all 786 refuted pairs did
not finish in 15 minutes on a 2-vCPU VM, and the costliest quarter
contains the largest policies. The listing of ReadOnlyAccess v139->v140
(about 2,700 action patterns in the new version) is timed on its own and
not probed.

Usage: python benchmarks/listing_check.py [--corpus DIR] [--count N] [--timeout S]
Needs: results/managed.csv from run_pairs.py
"""

from __future__ import annotations

import argparse
import csv
import ipaddress
import re
import statistics
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from run_pairs import DEFAULT_CORPUS, RESULTS_DIR, TIMEOUT_SECONDS, Pair, load_pair, read_pairs
from verifier.catalog import Catalog, default_catalog
from verifier.evaluate import Request, action_matches, evaluate
from verifier.new_access import NewAccessListing, list_new_access
from verifier.policy.document import Condition, Effect, PolicyDocument, Statement
from verifier.policy.operators import Family
from verifier.policy.pattern import Pattern, Variable
from verifier.policy.values import format_date, parse_date, parse_network, parse_number

COLUMNS = (
    "pair",
    "listed",
    "undecided",
    "complete",
    "seconds",
    "probed_actions",
    "probe_requests",
    "actions_with_new_access",
    "confirmed_listed",
    "misses",
    "soundness_errors",
)
DEFAULT_COUNT = 200
# Share of the refuted pairs, cheapest first, from which the sample is drawn.
SAMPLE_SHARE = 0.75
REFERENCE_NAME = "ReadOnlyAccess v139->v140"
REFERENCE_OLD = "managed/versions/ReadOnlyAccess/v139.json"
REFERENCE_NEW = "managed/versions/ReadOnlyAccess/v140.json"
REFERENCE_REPEATS = 3
MAX_PRINTED_MISSES = 20
# Number of policy values of one condition that get their own probe context.
MAX_VALUE_CHOICES = 5

# Values that fill policy variables, wildcards and ARN placeholders.
FILLER = "x"
ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"
# A value meant to match none of the values of a negated String or Arn operator.
UNMATCHED_TEXT = "unmatched-probe-value"
UNMATCHED_ARN = f"arn:{PARTITION}:iam::{ACCOUNT}:role/unmatched-probe-value"
# Addresses tried in turn for NotIpAddress, from the IPv4 and IPv6 documentation and private ranges.
OUTSIDE_ADDRESSES = ("203.0.113.7", "198.51.100.7", "10.255.255.7", "2001:db8::7", "fd00::7")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

ContextValue = str | tuple[str, ...]
Context = dict[str, ContextValue]


@dataclass
class Miss:
    """A request that shows new access for an action the listing left out."""

    pair: str
    request: Request
    undecided: bool


@dataclass
class PairOutcome:
    pair: str
    listing: NewAccessListing
    seconds: float
    probed_actions: int = 0
    probe_requests: int = 0
    actions_with_new_access: set[str] = field(default_factory=set)
    misses: list[Miss] = field(default_factory=list)
    soundness_errors: list[str] = field(default_factory=list)

    @property
    def confirmed(self) -> int:
        return sum(1 for entry in self.listing.entries if entry.action in self.actions_with_new_access)

    def row(self) -> dict[str, object]:
        return {
            "pair": self.pair,
            "listed": len(self.listing.entries),
            "undecided": len(self.listing.undecided),
            "complete": self.listing.complete,
            "seconds": f"{self.seconds:.4f}",
            "probed_actions": self.probed_actions,
            "probe_requests": self.probe_requests,
            "actions_with_new_access": len(self.actions_with_new_access),
            "confirmed_listed": self.confirmed,
            "misses": len(self.misses),
            "soundness_errors": len(self.soundness_errors),
        }


# --- Actions -----------------------------------------------------------------


def all_action_names(catalog: Catalog) -> list[str]:
    return [name for prefix in catalog.service_prefixes() for name in catalog.service(prefix).action_names]


def statement_action_names(statement: Statement, catalog: Catalog, every_action: list[str]) -> set[str]:
    """Return the catalog actions that the Action or NotAction element of a statement matches."""
    if statement.actions is not None:
        return {name for pattern in statement.actions for name in catalog.actions_matching(pattern)}
    excluded = {name for pattern in statement.not_actions or () for name in catalog.actions_matching(pattern)}
    return {name for name in every_action if name not in excluded}


def probed_actions(new: PolicyDocument, catalog: Catalog, every_action: list[str]) -> set[str]:
    names: set[str] = set()
    for statement in new.allow_statements:
        names |= statement_action_names(statement, catalog, every_action)
    return names


def mentions(statement: Statement, action: str) -> bool:
    """Return whether the Action or NotAction element of a statement matches `action`.

    This applies the evaluator's own action matching, so dropping the
    statements that do not mention an action leaves every decision on that
    action unchanged.
    """
    if statement.actions is not None:
        return any(action_matches(pattern, action) for pattern in statement.actions)
    return not any(action_matches(pattern, action) for pattern in statement.not_actions or ())


def action_pattern_count(*policies: PolicyDocument) -> int:
    return sum(len(s.actions or s.not_actions or ()) for policy in policies for s in policy.statements)


# --- Resources ---------------------------------------------------------------


def instantiate(pattern: Pattern, context: Context) -> tuple[str, Context]:
    """Turn a pattern into one concrete value that it matches.

    Wildcards become `x`. A policy variable takes its value from `context`
    when the key is there, and otherwise takes `x`, which the returned
    bindings record so the caller can put it in the request context.
    """
    parts: list[str] = []
    bindings: Context = {}
    for token in pattern:
        if isinstance(token, str):
            parts.append(token)
        elif isinstance(token, Variable):
            value = context.get(token.key, bindings.get(token.key))
            if isinstance(value, tuple):
                value = value[0]
            if value is None:
                value = FILLER
                bindings[token.key] = value
            parts.append(value)
        else:
            parts.append(FILLER)
    return "".join(parts), bindings


def catalog_arns(action: str, catalog: Catalog) -> list[str]:
    """Return the first ARN format of each resource type of `action`, with placeholders filled."""
    entry = catalog.action(action)
    if entry is None:
        return []
    arns = []
    for resource in entry.resource_types:
        formats = resource.resource_type.arn_formats
        if formats:
            arns.append(_PLACEHOLDER.sub(_placeholder_value, formats[0]))
    return arns


def _placeholder_value(match: re.Match[str]) -> str:
    name = match.group(1).lower()
    if name == "partition":
        return PARTITION
    if name == "region":
        return REGION
    if name in ("account", "accountid"):
        return ACCOUNT
    return FILLER


def resource_patterns(statements: Iterable[Statement]) -> list[Pattern]:
    patterns: dict[Pattern, None] = {}
    for statement in statements:
        for negated in (False, True):
            patterns.update(dict.fromkeys(statement.resource_patterns(negated=negated) or ()))
    return list(patterns)


# --- Contexts ----------------------------------------------------------------


def satisfying_context(statement: Statement, choice: int) -> Context:
    """Build a context that satisfies each condition of a statement on its own.

    Each condition uses its policy value at index `choice`, or its last value
    when it has fewer. Null conditions are applied last, so `Null: true`
    removes a key that another condition set. Conditions on the same key may
    conflict, and then the later one wins.
    """
    context: Context = {}
    for condition in statement.conditions:
        if condition.operator.family is Family.NULL:
            continue
        value = satisfying_value(statement, condition, choice, context)
        if value is None:
            continue
        key = condition.key_name
        context[key] = (value,) if condition.operator.qualifier is not None else value
    for condition in statement.conditions:
        if condition.operator.family is not Family.NULL:
            continue
        key = condition.key_name
        if condition.values[0].strip().lower() == "true":
            context.pop(key, None)
        else:
            context.setdefault(key, FILLER)
    return context


def satisfying_value(statement: Statement, condition: Condition, choice: int, context: Context) -> str | None:
    """Return one request value that satisfies `condition`, or None when none is built.

    The value is derived from the policy value at index `choice` (or the last
    one). Variables in that value are filled from `context` or with `x`, and
    any new binding is added to `context`.
    """
    operator = condition.operator
    family = operator.family
    comparison = operator.base.comparison
    policy_value = condition.values[min(choice, len(condition.values) - 1)]

    if family in (Family.STRING, Family.ARN, Family.BOOL):
        if operator.negated:
            return UNMATCHED_ARN if family is Family.ARN else UNMATCHED_TEXT
        wildcards = comparison == "like"
        value, bindings = instantiate(statement.condition_pattern(policy_value, wildcards=wildcards), context)
        context.update(bindings)
        return value
    if family is Family.BINARY:
        return policy_value
    if family is Family.NUMERIC:
        number = parse_number(policy_value)
        if number is None:
            return None
        return _number_text(number + _offset(comparison, operator.negated))
    if family is Family.DATE:
        moment = parse_date(policy_value)
        if moment is None:
            return None
        offset = _offset(comparison, operator.negated)
        return policy_value if offset == 0 else format_date(moment + offset)
    if family is Family.IP:
        if operator.negated:
            networks = [parse_network(value) for value in condition.values]
            return _outside_address([n for n in networks if n is not None])
        network = parse_network(policy_value)
        return str(network.network_address) if network is not None else None
    return None


def _offset(comparison: str, negated: bool) -> int:
    """Return the step from a policy number or date to a request value that satisfies it."""
    if negated or comparison == "gt":
        return 1
    if comparison == "lt":
        return -1
    return 0


def _number_text(number: Fraction) -> str:
    if number.denominator == 1:
        return str(number.numerator)
    return str(float(number))


def _outside_address(networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str | None:
    for text in OUTSIDE_ADDRESSES:
        address = ipaddress.ip_address(text)
        if not any(address.version == n.version and address in n for n in networks):
            return text
    return None


def probe_contexts(new_statements: list[Statement]) -> list[Context]:
    """Return the empty context and the satisfying contexts of each conditional new Allow statement.

    A statement gets one context per value index, up to the largest number
    of values in one of its conditions, capped at `MAX_VALUE_CHOICES`.
    """
    contexts: dict[str, Context] = {"{}": {}}
    for statement in new_statements:
        if statement.effect is not Effect.ALLOW or not statement.conditions:
            continue
        choices = min(MAX_VALUE_CHOICES, max(len(c.values) for c in statement.conditions))
        for choice in range(choices):
            context = satisfying_context(statement, choice)
            contexts.setdefault(repr(sorted(context.items())), context)
    return list(contexts.values())


# --- Probing -----------------------------------------------------------------


def probe_action(
    action: str, old: PolicyDocument, new: PolicyDocument, catalog: Catalog
) -> tuple[int, list[Request]]:
    """Decide the probe requests of one action and return their count and
    those that the new version allows and the old one does not."""
    new_statements = [s for s in new.statements if mentions(s, action)]
    old_statements = [s for s in old.statements if mentions(s, action)]
    new_part = new.model_copy(update={"statements": tuple(new_statements)})
    old_part = old.model_copy(update={"statements": tuple(old_statements)})
    patterns = resource_patterns(new_statements + old_statements)
    fixed_resources = ["*", *catalog_arns(action, catalog)]

    requests = []
    for context in probe_contexts(new_statements):
        resources: dict[str, Context] = {}
        for pattern in patterns:
            resource, bindings = instantiate(pattern, context)
            resources.setdefault(resource, bindings)
        for resource in fixed_resources:
            resources.setdefault(resource, {})
        for resource, bindings in resources.items():
            requests.append(Request(action, resource, None, {**context, **bindings}))

    showing = [
        request
        for request in requests
        if evaluate(new_part, request).allowed and not evaluate(old_part, request).allowed
    ]
    return len(requests), showing


def check_pair(
    name: str, old: PolicyDocument, new: PolicyDocument, actions: set[str], catalog: Catalog, timeout: float
) -> PairOutcome:
    """Run the listing on one pair, then probe each action and compare."""
    start = time.perf_counter()
    listing = list_new_access(old, new, timeout)
    outcome = PairOutcome(name, listing, time.perf_counter() - start, probed_actions=len(actions))

    for entry in listing.entries:
        if not entry.statements:
            outcome.soundness_errors.append(f"{entry.action} is listed without a granting statement")
        if entry.action not in actions:
            outcome.soundness_errors.append(f"{entry.action} is listed but no new Allow statement matches it")

    listed = {entry.action for entry in listing.entries}
    undecided = set(listing.undecided)
    for action in sorted(actions):
        count, showing = probe_action(action, old, new, catalog)
        outcome.probe_requests += count
        if not showing:
            continue
        outcome.actions_with_new_access.add(action)
        if action not in listed:
            outcome.misses.append(Miss(name, showing[0], undecided=action in undecided))
    return outcome


# --- Sample ------------------------------------------------------------------


@dataclass
class Candidate:
    cost: int
    pair: Pair
    old: PolicyDocument
    new: PolicyDocument
    actions: set[str]


def refuted_pair_names(results: Path) -> set[str]:
    path = results / "managed.csv"
    try:
        with open(path, encoding="utf-8", newline="") as table:
            return {row["pair"] for row in csv.DictReader(table) if row["verdict"] == "refuted"}
    except FileNotFoundError:
        sys.exit(f"error: {path} not found. Run benchmarks/run_pairs.py --only managed first")


def select_sample(
    corpus: Path, results: Path, count: int, catalog: Catalog, every_action: list[str]
) -> tuple[list[Candidate], int]:
    """Return the sampled pairs, cheapest first, and the number of refuted pairs.

    Pairs are ordered by probe cost, then name. The sample takes `count`
    pairs at even steps from the cheapest `SAMPLE_SHARE` of them.
    """
    refuted = refuted_pair_names(results)
    candidates = []
    for pair in read_pairs(corpus, "managed"):
        if pair.name not in refuted:
            continue
        old, new = load_pair(corpus, pair)
        actions = probed_actions(new, catalog, every_action)
        cost = len(actions) * action_pattern_count(old, new)
        candidates.append(Candidate(cost, pair, old, new, actions))
    candidates.sort(key=lambda c: (c.cost, c.pair.name))

    eligible = candidates[: max(count, int(len(candidates) * SAMPLE_SHARE))]
    if count >= len(eligible):
        return eligible, len(candidates)
    if count == 1:
        return eligible[:1], len(candidates)
    step = (len(eligible) - 1) / (count - 1)
    return [eligible[round(i * step)] for i in range(count)], len(candidates)


def time_reference(corpus: Path, timeout: float) -> tuple[list[float], NewAccessListing]:
    """Time the listing of ReadOnlyAccess v139->v140, `REFERENCE_REPEATS` times."""
    old, new = load_pair(corpus, Pair(REFERENCE_NAME, REFERENCE_OLD, REFERENCE_NEW, {}))
    times = []
    for _ in range(REFERENCE_REPEATS):
        start = time.perf_counter()
        listing = list_new_access(old, new, timeout)
        times.append(time.perf_counter() - start)
    return times, listing


# --- Report ------------------------------------------------------------------


def summary_lines(
    outcomes: list[PairOutcome], refuted: int, reference: tuple[list[float], NewAccessListing], run_seconds: float
) -> list[str]:
    times = [o.seconds for o in outcomes]
    listed = sum(len(o.listing.entries) for o in outcomes)
    confirmed = sum(o.confirmed for o in outcomes)
    actions_with_new_access = sum(len(o.actions_with_new_access) for o in outcomes)
    misses = [miss for o in outcomes for miss in o.misses]
    errors = [(o.pair, error) for o in outcomes for error in o.soundness_errors]
    reference_times, reference_listing = reference

    lines = [
        f"pairs checked: {len(outcomes)} of {refuted} refuted managed pairs",
        f"probed actions: {sum(o.probed_actions for o in outcomes)}",
        f"probe requests: {sum(o.probe_requests for o in outcomes)}",
        f"actions with new access in a probe: {actions_with_new_access}",
        f"misses (such an action not listed): {len(misses)}",
        f"listed actions: {listed}, of which a probe confirmed {confirmed}",
        f"soundness errors: {len(errors)}",
        f"undecided actions: {sum(len(o.listing.undecided) for o in outcomes)}",
        f"incomplete listings: {sum(not o.listing.complete for o in outcomes)}",
        f"listing seconds per pair: p50 {statistics.median(times):.3f}, max {max(times):.3f}",
        f"{REFERENCE_NAME}: {len(reference_listing.entries)} listed, "
        f"seconds {', '.join(f'{t:.2f}' for t in reference_times)}",
        f"run seconds: {run_seconds:.0f}",
    ]
    for miss in misses[:MAX_PRINTED_MISSES]:
        request = miss.request
        state = " (undecided in the listing)" if miss.undecided else ""
        lines.append(f"- miss{state}: {miss.pair}: action {request.action}, resource {request.resource!r}, context {dict(request.context)}")
    if len(misses) > MAX_PRINTED_MISSES:
        lines.append(f"- {len(misses) - MAX_PRINTED_MISSES} more misses")
    for pair, error in errors:
        lines.append(f"- soundness error: {pair}: {error}")
    return lines


def write_rows(path: Path, outcomes: list[PairOutcome]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as table:
        writer = csv.DictWriter(table, fieldnames=COLUMNS)
        writer.writeheader()
        for outcome in outcomes:
            writer.writerow(outcome.row())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help=f"corpus folder holding managed/ (default: {DEFAULT_CORPUS})")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help=f"folder that contains managed.csv and receives listing.csv and listing_summary.txt (default: {RESULTS_DIR})")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help=f"number of pairs in the sample (default: {DEFAULT_COUNT})")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, help=f"time limit per listing in seconds (default: {TIMEOUT_SECONDS:g})")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be at least 1, got {args.count}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run_start = time.perf_counter()
    catalog = default_catalog()
    every_action = all_action_names(catalog)
    sample, refuted = select_sample(args.corpus, args.results, args.count, catalog, every_action)

    outcomes = []
    for candidate in sample:
        outcome = check_pair(candidate.pair.name, candidate.old, candidate.new, candidate.actions, catalog, args.timeout)
        outcomes.append(outcome)
        row = outcome.row()
        print(
            f"{outcome.pair}: listed {row['listed']}, undecided {row['undecided']}, "
            f"{row['seconds']} s, {row['probe_requests']} probes, {row['misses']} misses",
            flush=True,
        )

    reference = time_reference(args.corpus, args.timeout)
    lines = summary_lines(outcomes, refuted, reference, time.perf_counter() - run_start)
    write_rows(args.results / "listing.csv", outcomes)
    (args.results / "listing_summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    failed = any(o.misses or o.soundness_errors for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
