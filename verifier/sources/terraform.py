"""Policy changes in a Terraform plan, as `terraform show -json` prints it.

Each entry of `resource_changes` contains the resource's attributes before and
after the planned change. For the resource types in `POLICY_ATTRIBUTES`, each
policy attribute (a JSON string) becomes a `PolicyChange` from `before` to
`after`. A policy rendered by an `aws_iam_policy_document` data source
reaches the plan as the string in the attribute that uses it.

A value that Terraform knows only after apply is marked `true` in
`after_unknown`. Such a policy cannot be checked, and since the whole string
is unknown, no part of it can be taken as a fresh value, so it becomes an
UNKNOWN finding that names the resource address and what the value depends
on. It is never skipped. Format reference:
https://developer.hashicorp.com/terraform/internals/json-format
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from verifier.errors import Issue, PolicyError
from verifier.findings import Finding, Location, Outcome, PolicyChange, invalid_finding
from verifier.policy.document import EMPTY_POLICY, PolicyDocument
from verifier.policy.parse import parse_policy_text

# Resource types whose attributes hold a policy document as a JSON string.
POLICY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "aws_iam_policy": ("policy",),
    "aws_iam_role": ("assume_role_policy",),
    "aws_iam_role_policy": ("policy",),
    "aws_iam_user_policy": ("policy",),
    "aws_iam_group_policy": ("policy",),
    "aws_s3_bucket_policy": ("policy",),
    "aws_kms_key": ("policy",),
    "aws_sqs_queue_policy": ("policy",),
    "aws_sns_topic_policy": ("policy",),
    "aws_ecr_repository_policy": ("policy",),
    "aws_secretsmanager_secret_policy": ("policy",),
}
# `aws_iam_role` also contains a list of `inline_policy` blocks, each with a
# `name` and a `policy`.
INLINE_POLICY_BLOCKS = {"aws_iam_role": "inline_policy"}

_SUPPORTED_FORMAT_MAJOR = "1"


def terraform_changes(plan_path: str) -> list[PolicyChange | Finding]:
    """Read a plan file and return its policy changes, in plan order."""
    plan = _load_plan(plan_path)
    changes = plan.get("resource_changes") or []
    if not isinstance(changes, list):
        raise PolicyError(plan_path, [Issue("resource_changes", "expected a list of resource changes")])
    plan_reader = _Plan(plan_path, plan)
    items: list[PolicyChange | Finding] = []
    for index, change in enumerate(changes):
        if not isinstance(change, dict) or not isinstance(change.get("change"), dict):
            raise PolicyError(plan_path, [Issue(f"resource_changes[{index}]", "expected an object with a `change` object")])
        if change.get("mode", "managed") != "managed":
            continue
        items.extend(plan_reader.resource_items(change))
    return items


def _load_plan(plan_path: str) -> dict[str, Any]:
    try:
        text = Path(plan_path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise PolicyError(plan_path, [Issue("", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyError(plan_path, [Issue("", f"cannot read the plan: {error}")]) from None
    try:
        plan = json.loads(text)
    except json.JSONDecodeError as error:
        raise PolicyError(
            plan_path,
            [Issue("", f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}; "
                   "expected the output of `terraform show -json PLANFILE`")],
        ) from None
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise PolicyError(
            plan_path, [Issue("", "not a Terraform plan: expected the output of `terraform show -json PLANFILE`")]
        )
    version = str(plan["format_version"])
    if version.split(".")[0] != _SUPPORTED_FORMAT_MAJOR:
        raise PolicyError(
            plan_path,
            [Issue("format_version", f"unsupported plan format `{version}`; expected a 1.x format version")],
        )
    return plan


class _Plan:
    def __init__(self, path: str, plan: dict[str, Any]) -> None:
        self.path = path
        self.plan = plan
        # Data sources that the plan reads during apply, not during plan.
        self.deferred_reads = {
            str(c.get("address"))
            for c in plan.get("resource_changes") or []
            if isinstance(c, dict) and c.get("mode") == "data"
        }

    def resource_items(self, resource: dict[str, Any]) -> list[PolicyChange | Finding]:
        resource_type = resource.get("type")
        address = str(resource.get("address"))
        change = resource["change"]
        actions = change.get("actions") or []
        if resource_type not in POLICY_ATTRIBUTES or actions == ["no-op"]:
            return []
        before = change.get("before") if isinstance(change.get("before"), dict) else {}
        after = change.get("after") if isinstance(change.get("after"), dict) else None
        after_unknown = change.get("after_unknown") if isinstance(change.get("after_unknown"), dict) else {}

        items: list[PolicyChange | Finding] = []
        for attribute in POLICY_ATTRIBUTES[resource_type]:
            old_text = before.get(attribute)
            if after is None:
                new_text, unknown = None, False
            else:
                new_text, unknown = after.get(attribute), after_unknown.get(attribute) is True
            item = self._attribute_item(resource, attribute, old_text, new_text, unknown)
            if item is not None:
                items.append(item)
        block = INLINE_POLICY_BLOCKS.get(resource_type)
        if block is not None:
            items.extend(self._inline_policy_items(resource, block, before, after, after_unknown))
        return items

    def _inline_policy_items(
        self,
        resource: dict[str, Any],
        block: str,
        before: dict[str, Any],
        after: dict[str, Any] | None,
        after_unknown: dict[str, Any],
    ) -> list[PolicyChange | Finding]:
        address = str(resource.get("address"))
        if after is not None and after_unknown.get(block) is True:
            return [self._unknown(resource, block)]
        old_blocks = _blocks_by_name(before.get(block))
        new_blocks: dict[str, tuple[Any, bool]] = {}
        unknown_marks = after_unknown.get(block) if isinstance(after_unknown.get(block), list) else []
        for position, entry in enumerate((after or {}).get(block) or []):
            if not isinstance(entry, dict):
                continue
            marks = unknown_marks[position] if position < len(unknown_marks) and isinstance(unknown_marks[position], dict) else {}
            if marks.get("name") is True:
                return [self._unknown(resource, f"{block}[{position}].name")]
            name = str(entry.get("name") or "")
            new_blocks[name] = (entry.get("policy"), marks.get("policy") is True)

        items: list[PolicyChange | Finding] = []
        for name, (new_text, unknown) in new_blocks.items():
            attribute = f"{block}[{json.dumps(name)}]"
            item = self._attribute_item(resource, attribute, old_blocks.get(name), new_text, unknown)
            if item is not None:
                items.append(item)
        for name, old_text in old_blocks.items():
            if name not in new_blocks and old_text:
                location = Location(self.path, resource=address, attribute=f"{block}[{json.dumps(name)}]")
                items.append(Finding(location, Outcome.REMOVED, old_name=f"{location.resource}.{location.attribute} (before)"))
        return items

    def _attribute_item(
        self, resource: dict[str, Any], attribute: str, old_text: Any, new_text: Any, unknown: bool
    ) -> PolicyChange | Finding | None:
        """Return the change of one policy attribute, a decided finding, or
        None when the attribute has no policy in either version or did not
        change."""
        address = str(resource.get("address"))
        location = Location(self.path, resource=address, attribute=attribute)
        name = f"{address}.{attribute}"
        if unknown:
            return self._unknown(resource, attribute)

        if not new_text:
            if old_text:
                return Finding(location, Outcome.REMOVED, old_name=f"{name} (before)")
            return None
        if new_text == old_text:
            return None

        if not isinstance(new_text, str):
            error = PolicyError(name, [Issue("", f"expected a policy document as a JSON string, found {type(new_text).__name__}")])
            return invalid_finding(location, error)
        try:
            new = _without_lines(parse_policy_text(new_text, f"{name} (after)"))
        except PolicyError as error:
            return invalid_finding(location, error)

        old_name = f"{name} (before)"
        old: PolicyDocument = EMPTY_POLICY
        if isinstance(old_text, str) and old_text:
            try:
                old = _without_lines(parse_policy_text(old_text, old_name))
            except PolicyError:
                old_name = f"the empty policy ({old_name} is invalid)"
        else:
            old_name = "the empty policy"
        return PolicyChange(location, old, new, old_name, f"{name} (after)")

    def _unknown(self, resource: dict[str, Any], attribute: str) -> Finding:
        address = str(resource.get("address"))
        location = Location(self.path, resource=address, attribute=attribute)
        reason = f"`{address}.{attribute}` is known only after apply, so its policy cannot be checked before it"
        references = self._references(resource, attribute.split("[", 1)[0])
        if references:
            described = [f"{r} (read during apply)" if r in self.deferred_reads else r for r in references]
            reason += f"; it depends on {', '.join(described)}"
        return Finding(location, Outcome.UNKNOWN, new_name=f"{address}.{attribute} (after)", reason=reason)

    def _references(self, resource: dict[str, Any], attribute: str) -> list[str]:
        """Return what the attribute's expression refers to (resources, data
        sources, variables), from the plan's `configuration` section."""
        module = _configuration_module(self.plan.get("configuration"), resource.get("module_address"))
        if module is None:
            return []
        local_address = f"{resource.get('type')}.{resource.get('name')}"
        for config in module.get("resources") or []:
            if isinstance(config, dict) and config.get("address") == local_address:
                expression = (config.get("expressions") or {}).get(attribute)
                references = expression.get("references") if isinstance(expression, dict) else None
                if not isinstance(references, list):
                    return []
                prefix = f"{resource['module_address']}." if resource.get("module_address") else ""
                # Terraform lists `data.x.y.json` before `data.x.y`; keep whole objects only.
                whole = [str(r) for r in references if not any(str(r).startswith(f"{o}.") for o in references if o != r)]
                return [prefix + r if not r.startswith(("var.", "local.")) else r for r in whole]
        return []


def _configuration_module(configuration: Any, module_address: Any) -> dict[str, Any] | None:
    if not isinstance(configuration, dict):
        return None
    module = configuration.get("root_module")
    if not module_address:
        return module if isinstance(module, dict) else None
    # `module.a.module.b[0]` walks the module calls `a`, then `b`.
    for part in str(module_address).split("module.")[1:]:
        name = part.rstrip(".").split("[", 1)[0]
        if not isinstance(module, dict):
            return None
        call = (module.get("module_calls") or {}).get(name)
        module = call.get("module") if isinstance(call, dict) else None
    return module if isinstance(module, dict) else None


def _blocks_by_name(blocks: Any) -> dict[str, Any]:
    if not isinstance(blocks, list):
        return {}
    return {str(b.get("name") or ""): b.get("policy") for b in blocks if isinstance(b, dict)}


def _without_lines(document: PolicyDocument) -> PolicyDocument:
    """Drop statement lines: they count lines inside a JSON string, not lines
    of the plan file."""
    statements = tuple(s.model_copy(update={"line": None}) for s in document.statements)
    return document.model_copy(update={"statements": statements})
