"""Policy changes between two versions of a CloudFormation template.

Resources are matched by logical ID. For each resource type in
`POLICY_PROPERTIES`, each policy property becomes a `PolicyChange` from the
old template to the new one, and so does each inline policy of a role, user
or group, matched by `PolicyName`. Intrinsic functions are first resolved
over the values known offline (see `verifier.sources.intrinsics`).

A policy whose resolved value is the same in both versions is unchanged and
not reported, even when it contains unresolved values, because both versions
deploy to the same stack and get the same values. A changed policy that
still contains an unresolved value is reported UNKNOWN, naming the logical ID,
the property and the expression.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from verifier.errors import Issue, PolicyError, UsageError
from verifier.findings import Finding, Location, Outcome, PolicyChange, invalid_finding
from verifier.policy.document import EMPTY_POLICY, PolicyDocument
from verifier.policy.parse import parse_policy_text, validate_policy
from verifier.sources.intrinsics import PSEUDO_PARAMETERS, REMOVED, Resolver, Unresolved, unresolved_values
from verifier.sources.template import parse_template
from verifier.zone import ACCOUNT_ID

# Properties that hold one policy document, by resource type.
POLICY_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("AssumeRolePolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
}
# Resource types with a `Policies` list of `{PolicyName, PolicyDocument}`.
INLINE_POLICY_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")

_MISSING = object()


def template_changes(old_path: str, new_path: str, values: dict[str, str]) -> list[PolicyChange | Finding]:
    """Compare two template files."""
    new_text = _read(new_path)
    old_text = _read(old_path)
    check_parameter_names(values, [(new_path, new_text)])
    return _compare(old_text, old_path, new_text, new_path, values)


def template_changes_at_base(base: str, paths: tuple[str, ...], values: dict[str, str]) -> list[PolicyChange | Finding]:
    """Compare each template at the git revision `base` with its working-tree version."""
    texts = [(path, _read(path)) for path in paths]
    check_parameter_names(values, texts)
    items: list[PolicyChange | Finding] = []
    for path, text in texts:
        old_text = _git_show(base, path)
        items.extend(_compare(old_text, f"{base}:{path}", text, path, values))
    return items


def check_parameter_names(values: dict[str, str], templates: list[tuple[str, str]]) -> None:
    """Raise UsageError for each `--parameter` name that no template
    declares (a parameter, a pseudo parameter, a resource's `Ref`, or
    `LogicalId.Attribute`) and for an `AWS::AccountId` that is not 12 digits.
    A mistyped name would otherwise leave its value unused and the policy
    that needs it unknown without saying why."""
    known: set[str] = set(PSEUDO_PARAMETERS)
    for name, text in templates:
        try:
            template = parse_template(text, name)
        except PolicyError:
            # The invalid template is reported as a finding of its own.
            continue
        for section in ("Parameters", "Resources"):
            if isinstance(template.get(section), dict):
                known.update(str(key) for key in template[section])
    problems = []
    for name, value in values.items():
        if name.split(".", 1)[0] not in known:
            problems.append(f"--parameter {name}: not a parameter, pseudo parameter or resource of {', '.join(n for n, _ in templates)}")
        elif name == "AWS::AccountId" and ACCOUNT_ID.fullmatch(value) is None:
            problems.append(f"--parameter AWS::AccountId={value}: invalid value: expected a 12-digit account ID such as 111122223333")
    if problems:
        raise UsageError("\n".join(problems))


def _compare(
    old_text: str | None, old_name: str, new_text: str, new_name: str, values: dict[str, str]
) -> list[PolicyChange | Finding]:
    try:
        new_template = parse_template(new_text, new_name)
    except PolicyError as error:
        return [invalid_finding(Location(new_name), error)]
    old_template: dict[str, Any] = {"Resources": {}}
    if old_text is not None:
        try:
            old_template = parse_template(old_text, old_name)
        except PolicyError:
            # A template that was invalid before counts as empty: all of the
            # new template's access is new.
            old_name = f"{old_name} (invalid, so taken as empty)"
    old = _Template(old_template, old_name, values)
    new = _Template(new_template, new_name, values)

    items: list[PolicyChange | Finding] = []
    for key, (old_value, new_value) in _paired_policies(old, new).items():
        logical_id, attribute = key
        location = Location(new_name, line=getattr(new_value, "line", None), resource=logical_id, attribute=attribute)
        item = _change(location, old, old_value, new, new_value)
        if item is not None:
            items.append(item)
    return items


class _Template:
    def __init__(self, template: dict[str, Any], name: str, values: dict[str, str]) -> None:
        self.template = template
        self.name = name
        self.resolver = Resolver(template, values)

    def policies(self) -> dict[tuple[str, str], Any]:
        """Return the raw policy values of the template by (logical ID,
        property path), in template order.

        A resource with a `Condition` attribute exists only when the
        condition holds, so its policies are read as `Fn::If` of that
        condition and `AWS::NoValue`. An entry of an inline `Policies` list
        that is an intrinsic function (such as `!If`) is resolved to find
        its policy; one that stays unresolved is returned whole.
        """
        found: dict[tuple[str, str], Any] = {}
        for logical_id, resource in self.template["Resources"].items():
            if not isinstance(resource, dict):
                continue
            resource_type = resource.get("Type")
            properties = resource.get("Properties")
            if not isinstance(properties, dict):
                continue
            condition = resource.get("Condition")

            def guarded(raw: Any) -> Any:
                if condition is None:
                    return raw
                return {"Fn::If": [condition, raw, {"Ref": "AWS::NoValue"}]}

            for name in POLICY_PROPERTIES.get(str(resource_type), ()):
                if name in properties:
                    found[(str(logical_id), f"Properties.{name}")] = guarded(properties[name])
            if resource_type in INLINE_POLICY_TYPES and "Policies" in properties:
                for path, raw in self._inline_policies(properties["Policies"]):
                    found[(str(logical_id), path)] = guarded(raw)
        return found

    def _inline_policies(self, policies: Any) -> list[tuple[str, Any]]:
        """List (property path, raw policy) for the entries of a `Policies`
        property, resolving the intrinsic functions around entries."""
        entries = policies
        if not isinstance(policies, list):
            entries = self.resolver.resolve(policies)
            if isinstance(entries, Unresolved):
                return [("Properties.Policies", policies)]
            if not isinstance(entries, list):
                return []
        found = []
        for position, entry in enumerate(entries):
            if not isinstance(entry, dict) or _is_function(entry):
                resolved = self.resolver.resolve(entry)
                if resolved is REMOVED:
                    continue
                if isinstance(resolved, Unresolved):
                    found.append((f"Properties.Policies[{position}]", entry))
                    continue
                entry = resolved
            if not isinstance(entry, dict) or "PolicyDocument" not in entry:
                continue
            policy_name = self.resolver.resolve(entry.get("PolicyName", str(position)))
            label = json.dumps(policy_name if isinstance(policy_name, str) else str(position))
            found.append((f"Properties.Policies[{label}].PolicyDocument", entry["PolicyDocument"]))
        return found


def _is_function(value: dict[Any, Any]) -> bool:
    """Return whether a mapping is an intrinsic function such as `Fn::If`."""
    if len(value) != 1:
        return False
    name = str(next(iter(value)))
    return name in ("Ref", "Condition") or name.startswith("Fn::")


def _paired_policies(old: _Template, new: _Template) -> dict[tuple[str, str], tuple[Any, Any]]:
    old_policies = old.policies()
    new_policies = new.policies()
    pairs = {key: (old_policies.get(key, _MISSING), value) for key, value in new_policies.items()}
    for key, value in old_policies.items():
        if key not in new_policies:
            pairs[key] = (value, _MISSING)
    return pairs


def _change(location: Location, old: _Template, old_raw: Any, new: _Template, new_raw: Any) -> PolicyChange | Finding | None:
    logical_id, attribute = location.resource, location.attribute
    old_label = f"{old.name}: Resources.{logical_id}.{attribute}"
    new_label = f"{new.name}: Resources.{logical_id}.{attribute}"
    if new_raw is _MISSING:
        return Finding(location, Outcome.REMOVED, old_name=old_label)

    new_value = new.resolver.resolve(new_raw)
    old_value = old.resolver.resolve(old_raw) if old_raw is not _MISSING else _MISSING
    # `AWS::NoValue` through a resource's false `Condition` or an `!If`:
    # that version has no such policy.
    if old_value is REMOVED:
        old_value = _MISSING
    if new_value is REMOVED:
        return None if old_value is _MISSING else Finding(location, Outcome.REMOVED, old_name=old_label)
    if old_value is not _MISSING and _same(old_value, new_value):
        # Equal values with unresolved parts are equal only as text: the
        # same `!FindInMap [Buckets, !Ref Env, Name]` reads a changed Mappings
        # section. Such a policy is unchanged only if everything its
        # expression can read is unchanged too.
        if not unresolved_values(new_value) or _same_inputs(old, old_raw, new, new_raw):
            return None

    unresolved = unresolved_values(new_value)
    errors = [u for u in unresolved if u.template_error]
    if errors:
        issues = [f"{new_label}: {u}: {u.hint}" for u in errors]
        return Finding(location, Outcome.INVALID, new_name=new_label, issues=issues)
    if unresolved:
        return _unknown(location, new_label, unresolved)
    try:
        new_document = _document(new_value, new_label)
    except PolicyError as error:
        return invalid_finding(location, error)

    if old_value is _MISSING:
        return PolicyChange(location, EMPTY_POLICY, new_document, "the empty policy", new_label)
    unresolved = unresolved_values(old_value)
    if unresolved:
        return _unknown(location, old_label, unresolved)
    try:
        old_document = _document(old_value, old_label)
    except PolicyError:
        return PolicyChange(location, EMPTY_POLICY, new_document, f"the empty policy ({old_label} is invalid)", new_label)
    return PolicyChange(location, old_document, new_document, old_label, new_label)


def _unknown(location: Location, label: str, unresolved: list[Unresolved]) -> Finding:
    listed = "; ".join(f"{u}: {u.hint}" for u in unresolved[:3])
    more = f" and {len(unresolved) - 3} more" if len(unresolved) > 3 else ""
    reason = f"{label} depends on values unknown before deployment: {listed}{more}"
    return Finding(location, Outcome.UNKNOWN, new_name=label, reason=reason)


def _document(value: Any, source: str) -> PolicyDocument:
    """Validate a resolved policy value: a mapping, or a JSON string as some
    templates write it."""
    if isinstance(value, str):
        document = parse_policy_text(value, source)
        statements = tuple(s.model_copy(update={"line": None}) for s in document.statements)
        return document.model_copy(update={"statements": statements})
    document = validate_policy(value, source)
    raw = value.get("Statement") if isinstance(value, dict) else None
    raw_statements = raw if isinstance(raw, list) else [raw]
    if len(raw_statements) != len(document.statements):
        return document
    statements = tuple(
        s.model_copy(update={"line": getattr(r, "line", None)}) for s, r in zip(document.statements, raw_statements)
    )
    return document.model_copy(update={"statements": statements})


def _same(old: Any, new: Any) -> bool:
    return _canonical(old) == _canonical(new)


# Template sections that an intrinsic function can read, whichever
# resource the policy belongs to.
_SHARED_SECTIONS = ("Parameters", "Mappings", "Conditions")


def _same_inputs(old: _Template, old_raw: Any, new: _Template, new_raw: Any) -> bool:
    """Return whether two raw policy values are the same expression over the
    same inputs: the same text, the same Parameters, Mappings and Conditions
    sections, and the same definition of every resource they refer to,
    directly or through other resources."""
    if _canonical(old_raw) != _canonical(new_raw):
        return False
    for section in _SHARED_SECTIONS:
        if _canonical(old.template.get(section)) != _canonical(new.template.get(section)):
            return False
    old_resources, new_resources = old.template["Resources"], new.template["Resources"]
    names = _referenced_names(new_raw)
    pending = list(names)
    while pending:
        name = pending.pop()
        if _canonical(old_resources.get(name)) != _canonical(new_resources.get(name)):
            return False
        for referenced in _referenced_names(new_resources.get(name)) - names:
            names.add(referenced)
            pending.append(referenced)
    return True


_SUB_NAME = re.compile(r"\$\{([^!}][^}.]*)")


def _referenced_names(value: Any) -> set[str]:
    """Collect the logical IDs that `Ref`, `Fn::GetAtt` and `Fn::Sub` name
    anywhere inside a raw template value."""
    names: set[str] = set()
    if isinstance(value, list):
        for item in value:
            names |= _referenced_names(item)
    if not isinstance(value, dict):
        return names
    for key, item in value.items():
        if key == "Ref" and isinstance(item, str):
            names.add(item)
        elif key == "Fn::GetAtt" and isinstance(item, str):
            names.add(item.split(".", 1)[0])
        elif key == "Fn::GetAtt" and isinstance(item, list) and item and isinstance(item[0], str):
            names.add(item[0])
        elif key == "Fn::Sub":
            text = item
            if isinstance(item, list) and item:
                text = item[0]
            if isinstance(text, str):
                names |= set(_SUB_NAME.findall(text))
        names |= _referenced_names(item)
    return names


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PolicyError(path, [Issue("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(path, [Issue("", f"cannot read the template: {error}")]) from None


def _git_show(base: str, path: str) -> str | None:
    """Return the template at `base`, or None when it did not exist there."""
    from verifier.sources.git import check_revision, run_git

    check_revision(base, ".")
    # `REF:./PATH` is relative to the working directory, as PATH is.
    relative = path if Path(path).is_absolute() else f"./{Path(path).as_posix()}"
    if Path(path).is_absolute():
        root = Path(run_git(["rev-parse", "--show-toplevel"], ".").decode().strip())
        relative = Path(path).resolve().relative_to(root.resolve()).as_posix()
    try:
        data = run_git(["show", f"{base}:{relative}"], ".")
    except UsageError:
        return None
    return data.decode("utf-8-sig", "replace")
