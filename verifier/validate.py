"""Findings about a valid policy that the AWS service reference can catch.

These are warnings, not parse errors: IAM accepts such policies, but they
usually hold a mistake. Each finding has the JSON path of the element, as
parse errors do.
"""

from __future__ import annotations

import re

from verifier.catalog import Catalog, default_catalog
from verifier.encode import glob
from verifier.encode.glob import compile_arn
from verifier.encode.principal import claim_provider
from verifier.policy.pattern import parse_pattern
from verifier.errors import Issue
from verifier.keys import DOCUMENTED_MULTIVALUED, DOCUMENTED_TYPES, KeyType
from verifier.policy.document import PolicyDocument, Statement
from verifier.policy.operators import Family

# Global condition keys from "AWS global condition context keys"
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html),
# lowercase; a trailing `/` stands for a key with a tag or name suffix.
GLOBAL_KEYS = frozenset(
    {
        "aws:calledvia", "aws:calledviafirst", "aws:calledvialast", "aws:currenttime", "aws:epochtime",
        "aws:federatedprovider", "aws:multifactorauthage", "aws:multifactorauthpresent", "aws:principalaccount",
        "aws:principalarn", "aws:principalisawsservice", "aws:principalorgid", "aws:principalorgpaths",
        "aws:principalservicename", "aws:principalservicenameslist", "aws:principaltype", "aws:referer",
        "aws:requestedregion", "aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths",
        "aws:securetransport", "aws:sourceaccount", "aws:sourcearn", "aws:sourceidentity", "aws:sourceip",
        "aws:sourceorgid", "aws:sourceorgpaths", "aws:sourcevpc", "aws:sourcevpce", "aws:sourcevpcarn",
        "aws:tagkeys", "aws:tokenissuetime", "aws:useragent", "aws:userid", "aws:username", "aws:viaawsservice",
        "aws:vpcsourceip", "aws:ec2instancesourcevpc", "aws:ec2instancesourceprivateipv4",
        "aws:principaltag/", "aws:requesttag/", "aws:resourcetag/",
    }
)

# Operator families that fit each documented key type; a String operator
# also fits an ARN key.
_FITTING = {
    "String": {Family.STRING},
    "ARN": {Family.ARN, Family.STRING},
    "Numeric": {Family.NUMERIC},
    "Date": {Family.DATE},
    "Bool": {Family.BOOL},
    "IPAddress": {Family.IP},
}
_KEY_TYPE_NAMES = {
    KeyType.DATE: "Date",
    KeyType.NUMERIC: "Numeric",
    KeyType.BOOL: "Bool",
    KeyType.IP: "IPAddress",
}
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")


def validate_policy_semantics(policy: PolicyDocument, catalog: Catalog | None = None) -> list[Issue]:
    """Return the warnings for every statement of a valid policy."""
    catalog = catalog or default_catalog()
    issues: list[Issue] = []
    for statement in policy.statements:
        issues += _action_findings(statement, catalog)
        issues += _condition_findings(statement, catalog)
    return issues


def _element_path(statement: Statement, element: str, values: tuple[str, ...], index: int) -> str:
    return f"{statement.path}.{element}" + (f"[{index}]" if len(values) > 1 else "")


def _action_findings(statement: Statement, catalog: Catalog) -> list[Issue]:
    element = "Action" if statement.actions is not None else "NotAction"
    patterns = statement.actions if statement.actions is not None else statement.not_actions or ()
    issues: list[Issue] = []
    for index, pattern in enumerate(patterns):
        if pattern == "*":
            continue
        path = _element_path(statement, element, patterns, index)
        names = catalog.actions_matching("".join(pattern.split()))
        if not names:
            service = pattern.split(":", 1)[0]
            if catalog.service(service) is None:
                issues.append(Issue(path, f"warning: unknown service prefix `{service}` in `{pattern}`"))
            elif "*" in pattern or "?" in pattern:
                issues.append(Issue(path, f"warning: `{pattern}` matches no action that AWS defines"))
            else:
                issues.append(Issue(path, f"warning: unknown action `{pattern}`"))
            continue
        if any(c.isspace() for c in pattern):
            issues.append(Issue(path, f"warning: action `{pattern}` contains white space"))
        if element == "Action" and len(names) == 1 and "*" not in pattern and "?" not in pattern:
            issues += _resource_findings(statement, names[0], path, catalog)
    return issues


def _resource_findings(statement: Statement, name: str, path: str, catalog: Catalog) -> list[Issue]:
    """Warn when no Resource pattern of the statement can name a resource of the action."""
    resources = statement.resources
    if resources is None or "*" in resources:
        return []
    action = catalog.action(name)
    if action is None:
        return []
    formats = [f for r in action.resource_types for f in r.resource_type.arn_formats]
    if not formats:
        return [Issue(path, f"warning: `{name}` takes no resource type, so it needs `\"Resource\": \"*\"`")]
    for resource in resources:
        for arn_format in formats:
            if _may_overlap(resource, arn_format):
                return []
    types = ", ".join(sorted({r.resource_type.name for r in action.resource_types}))
    return [Issue(path, f"warning: no Resource of this statement names a resource `{name}` takes ({types})")]


def _may_overlap(resource: str, arn_format: str) -> bool:
    """Return False only if no ARN matches both the policy's Resource pattern
    and the ARN format; variables and placeholders are read as `*`."""
    pattern = compile_arn(parse_pattern(_PLACEHOLDER.sub("*", resource), variables=False, wildcards=True))
    # Every real ARN of the format has a partition, so it is written out;
    # a `*` there would, as a segment-ending wildcard, match across colons.
    concrete = arn_format.replace("${Partition}", resource.split(":")[1] if resource.count(":") >= 1 else "aws")
    shape = compile_arn(parse_pattern(_PLACEHOLDER.sub("*", concrete), variables=False, wildcards=True))
    return glob.intersects(pattern, shape)


def _condition_findings(statement: Statement, catalog: Catalog) -> list[Issue]:
    issues: list[Issue] = []
    for condition in statement.conditions:
        key = condition.key_name
        family = condition.operator.family
        documented = _documented_type(key, catalog)
        if documented is None:
            if not _is_known_key(key, catalog):
                issues.append(Issue(condition.path, f"warning: unknown condition key `{condition.key}`"))
            continue
        if family is Family.NULL:
            continue
        base = documented.removeprefix("ArrayOf")
        fitting = _FITTING.get(base)
        if fitting is not None and family not in fitting:
            issues.append(
                Issue(
                    condition.path,
                    f"warning: `{condition.operator.text}` compares {family.value} values, "
                    f"but `{condition.key}` is documented as {documented}",
                )
            )
        multivalued = documented.startswith("ArrayOf") or key in DOCUMENTED_MULTIVALUED
        if multivalued and condition.operator.qualifier is None:
            issues.append(
                Issue(
                    condition.path,
                    f"warning: `{condition.key}` is multivalued; use `ForAllValues:` or `ForAnyValue:` with `{condition.operator.text}`",
                )
            )
    return issues


def _documented_type(key: str, catalog: Catalog) -> str | None:
    if key in DOCUMENTED_TYPES:
        return _KEY_TYPE_NAMES[DOCUMENTED_TYPES[key]]
    if key in DOCUMENTED_MULTIVALUED:
        return "ArrayOfString"
    return catalog.condition_key_type(key)


def _is_known_key(key: str, catalog: Catalog) -> bool:
    if key in GLOBAL_KEYS:
        return True
    # Claims of a web identity or SAML provider, such as
    # `token.actions.githubusercontent.com:sub`, are named after the
    # provider, which the reference cannot list.
    if claim_provider(key) is not None:
        return True
    if any(key.startswith(prefix) for prefix in GLOBAL_KEYS if prefix.endswith("/")):
        return True
    return catalog.condition_key_type(key) is not None
