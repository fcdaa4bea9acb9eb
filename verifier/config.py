"""The config file: `.iamverify.toml`, or `[tool.iamverify]` in `pyproject.toml`.

It contains three parts, all optional:

- `[zone]`: the zone of trust, in the format that `verifier.zone` reads;
- `[[properties]]`: a path glob and what every policy file it matches must
  satisfy, as `require = ["no-external-access", ...]` (the properties of
  `iamverify prove`) and `deny_resources = ["*prod*", ...]` (the policy
  allows no request whose resource matches one of these globs);
- `[[accepted]]`: deliberately granted new access for a path glob, as an
  Allow-only policy (`policy = {...}` inline or `policy_file = "..."`) with
  a `reason` and an optional `expires` date. A request that the accepted
  policy allows does not count as new access until the day after `expires`
  (UTC).

Path globs are relative to the folder of the config file and use `/`. A
`*` matches within one path segment, `**` matches any number of segments,
and `?` matches one character other than `/`. An entry may give a
`resource` glob instead of `path`, or both: it matches a policy in a
Terraform plan or CloudFormation template by its resource address or
logical ID and attribute, such as `aws_iam_role.app.assume_role_policy`. Validation reports every
problem of the file at once, each with its TOML path and the value found.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from verifier.errors import Issue, PolicyError, UsageError
from verifier.policy.document import VERSION_2012, PolicyDocument
from verifier.policy.parse import load_policy_file, parse_policy_text
from verifier.prove import Property
from verifier.zone import Zone, toml_type_name, zone_from_table

CONFIG_NAME = ".iamverify.toml"
PYPROJECT_NAME = "pyproject.toml"

_TOP_FIELDS = ("zone", "properties", "accepted")
_PROPERTY_FIELDS = ("path", "resource", "require", "deny_resources")
_ACCEPTED_FIELDS = ("path", "resource", "reason", "expires", "policy", "policy_file")
# Properties that compare callers with the zone of trust, so they need one.
_ZONE_PROPERTIES = (Property.NO_EXTERNAL_ACCESS, Property.NO_CONFUSED_DEPUTY)


@dataclass(frozen=True)
class PathGlob:
    """A path pattern relative to the config file's folder."""

    text: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def compile_path_glob(text: str) -> PathGlob:
    """Translate a path glob into a regular expression: `**/` matches zero
    or more folders, `/**` at the end everything below, `*` any characters
    but `/`, and `?` one character but `/`."""
    parts: list[str] = []
    position = 0
    while position < len(text):
        if text.startswith("**/", position):
            parts.append("(?:[^/]*/)*")
            position += 3
        elif text.startswith("**", position):
            parts.append(".*")
            position += 2
        elif text[position] == "*":
            parts.append("[^/]*")
            position += 1
        elif text[position] == "?":
            parts.append("[^/]")
            position += 1
        else:
            parts.append(re.escape(text[position]))
            position += 1
    return PathGlob(text, re.compile("".join(parts), re.DOTALL))


def compile_resource_glob(text: str) -> PathGlob:
    """Translate a glob over a Terraform resource address or CloudFormation
    logical ID with its attribute, such as `aws_iam_role.*.assume_role_policy`:
    `*` matches any characters and `?` one character, `.` and `/` included.
    Matching is case-sensitive, like the addresses and IDs themselves."""
    wildcards = {"*": ".*", "?": "."}
    pattern = "".join(wildcards.get(char) or re.escape(char) for char in text)
    return PathGlob(text, re.compile(pattern, re.DOTALL))


@dataclass(frozen=True)
class Target:
    """The policy that a config entry's globs are matched against.

    `file` is the policy's file relative to the config file's folder, or
    None outside that folder. `resource` is set for a policy inside a
    Terraform plan or CloudFormation template: its resource address or
    logical ID, a dot, and the attribute that contains it.
    """

    file: str | None
    resource: str | None = None


def _entry_matches(path: PathGlob | None, resource: PathGlob | None, target: Target) -> bool:
    """Return whether every glob that an entry gives matches the target."""
    if path is not None and (target.file is None or not path.matches(target.file)):
        return False
    if resource is not None and (target.resource is None or not resource.matches(target.resource)):
        return False
    return True


@dataclass(frozen=True)
class PropertyRule:
    """One `[[properties]]` entry."""

    index: int
    source: str
    path: PathGlob | None
    require: tuple[Property, ...] = ()
    deny_resources: tuple[str, ...] = ()
    resource: PathGlob | None = None
    # `tool.iamverify.` for an entry of pyproject.toml, else empty.
    prefix: str = ""

    @property
    def title(self) -> str:
        return f"{self.prefix}properties[{self.index}] in {self.source}"

    def matches(self, target: Target) -> bool:
        return _entry_matches(self.path, self.resource, target)


@dataclass(frozen=True)
class AcceptedChange:
    """One `[[accepted]]` entry: access granted on purpose in the policies
    that `path` and `resource` match."""

    index: int
    source: str
    path: PathGlob | None
    reason: str
    policy: PolicyDocument
    expires: datetime.date | None = None
    policy_file: str | None = None
    resource: PathGlob | None = None
    # `tool.iamverify.` for an entry of pyproject.toml, else empty.
    prefix: str = ""

    def matches(self, target: Target) -> bool:
        return _entry_matches(self.path, self.resource, target)

    @property
    def scope(self) -> str:
        """Describe the globs of the entry, such as `roles/*.json`."""
        globs = [glob.text for glob in (self.path, self.resource) if glob is not None]
        return ", ".join(globs)

    @property
    def title(self) -> str:
        return f"the accepted change {self.prefix}accepted[{self.index}] in {self.source}"

    def expired_on(self, today: datetime.date) -> bool:
        """True when `today` is after the expiry date: the entry counts up to
        and including that day."""
        return self.expires is not None and today > self.expires

    def describe(self) -> str:
        """Describe the entry in one line: its path, reason and expiry."""
        text = f"{self.prefix}accepted[{self.index}] in {self.source} ({self.scope}): {self.reason}"
        return text + (f" (expires {self.expires.isoformat()})" if self.expires else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "entry": f"{self.prefix}accepted[{self.index}]",
            "config": self.source,
            "path": self.path.text if self.path else None,
            "resource": self.resource.text if self.resource else None,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
            "policy_file": self.policy_file,
        }


@dataclass
class Config:
    source: str
    root: Path
    zone: Zone = field(default_factory=Zone)
    properties: list[PropertyRule] = field(default_factory=list)
    accepted: list[AcceptedChange] = field(default_factory=list)

    def relative(self, path: str | Path) -> str | None:
        """Return `path` relative to the config file's folder, with `/`
        separators, or None when it lies outside that folder."""
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(self.root).as_posix()
        except ValueError:
            return None

    def accepted_policy_files(self) -> set[Path]:
        """Return the absolute paths of the `policy_file`s of accepted
        changes. They describe access granted on purpose, not a policy that
        AWS applies, so runs leave them out."""
        return {Path(os.path.abspath(self.root / entry.policy_file)) for entry in self.accepted if entry.policy_file}

    def properties_for(self, target: Target) -> list[PropertyRule]:
        return [rule for rule in self.properties if rule.matches(target)]

    def accepted_for(self, target: Target, today: datetime.date) -> tuple[list[AcceptedChange], list[AcceptedChange]]:
        """Return the entries for the policy that count on `today`, and those
        that match it but have expired."""
        matching = [entry for entry in self.accepted if entry.matches(target)]
        active = [entry for entry in matching if not entry.expired_on(today)]
        expired = [entry for entry in matching if entry.expired_on(today)]
        return active, expired


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def union_of(entries: list[AcceptedChange]) -> PolicyDocument:
    """Join Allow-only policies into one. Because none has a Deny statement,
    the joined policy allows exactly the requests that one of them allows."""
    statements = []
    for entry in entries:
        for statement in entry.policy.statements:
            statements.append(statement.model_copy(update={"index": len(statements)}))
    return PolicyDocument(version=VERSION_2012, statements=tuple(statements), source="accepted changes")


def find_config(directory: str | Path = ".") -> Path | None:
    """Return `.iamverify.toml` in `directory`, else `pyproject.toml` when it
    has a `[tool.iamverify]` table, else None."""
    folder = Path(directory)
    if (folder / CONFIG_NAME).is_file():
        return folder / CONFIG_NAME
    pyproject = folder / PYPROJECT_NAME
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            # A broken pyproject.toml is only this tool's business when it
            # is named with --config.
            return None
        tool = data.get("tool")
        if isinstance(tool, dict) and "iamverify" in tool:
            return pyproject
    return None


def load_config(path: str | Path) -> Config:
    """Read and validate a config file. Raise PolicyError listing every
    problem, or UsageError when the file cannot be read."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--config: cannot read {source}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise PolicyError(source, [Issue("", f"invalid UTF-8 at byte {error.start}; save the file as UTF-8")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(source, [Issue("", f"not valid TOML: {error}")]) from None

    prefix = ""
    table: Any = data
    if Path(path).name == PYPROJECT_NAME:
        prefix = "tool.iamverify."
        table = data.get("tool", {}).get("iamverify", {}) if isinstance(data.get("tool"), dict) else {}
        if not isinstance(table, dict):
            raise PolicyError(source, [Issue("tool.iamverify", "must be a table such as [tool.iamverify.zone]")])
    reader = _Reader(source, Path(os.path.abspath(path)).parent, prefix)
    config = reader.read(table)
    if reader.issues:
        raise PolicyError(source, reader.issues)
    return config


@dataclass
class _Reader:
    """Validates the parsed TOML tables, collecting every problem."""

    source: str
    root: Path
    prefix: str
    issues: list[Issue] = field(default_factory=list)

    def problem(self, path: str, message: str) -> None:
        self.issues.append(Issue(self.prefix + path, message))

    def read(self, table: dict[str, Any]) -> Config:
        for name in table:
            if name not in _TOP_FIELDS:
                self.problem(name, f"unknown field: expected one of {', '.join(_TOP_FIELDS)}")
        zone, zone_issues = zone_from_table(table.get("zone"), self.prefix + "zone", self.source)
        self.issues += zone_issues
        config = Config(self.source, self.root, zone)
        for index, entry in enumerate(self._entries(table, "properties", "[[properties]] with path and require")):
            rule = self._property(index, entry, zone, zone_valid=not zone_issues)
            if rule is not None:
                config.properties.append(rule)
        for index, entry in enumerate(self._entries(table, "accepted", "[[accepted]] with path, reason and policy")):
            accepted = self._accepted(index, entry)
            if accepted is not None:
                config.accepted.append(accepted)
        return config

    def _entries(self, table: dict[str, Any], name: str, example: str) -> list[Any]:
        value = table.get(name, [])
        if not isinstance(value, list):
            self.problem(name, f"must be an array of tables such as {example}, not {toml_type_name(value)}")
            return []
        return value

    def _globs(self, where: str, entry: dict[str, Any]) -> tuple[bool, PathGlob | None, PathGlob | None]:
        """Read `path` and `resource`; return whether both are valid, and the
        globs given."""
        if "path" not in entry and "resource" not in entry:
            self.problem(
                where,
                "missing path or resource: expected path = \"roles/**/trust.json\" (a policy file glob) or "
                "resource = \"aws_iam_role.*.assume_role_policy\" (a Terraform address or CloudFormation logical ID glob)",
            )
            return False, None, None
        path = self._path(where, entry) if "path" in entry else None
        resource = self._resource(where, entry) if "resource" in entry else None
        valid = ("path" not in entry or path is not None) and ("resource" not in entry or resource is not None)
        return valid, path, resource

    def _resource(self, where: str, entry: dict[str, Any]) -> PathGlob | None:
        value = entry.get("resource")
        if not isinstance(value, str) or not value:
            self.problem(
                f"{where}.resource",
                f"{value!r} is not valid: expected a glob over a Terraform address or CloudFormation logical ID "
                "and attribute, such as aws_iam_role.*.assume_role_policy or AppRole.*",
            )
            return None
        return compile_resource_glob(value)

    def _path(self, where: str, entry: dict[str, Any]) -> PathGlob | None:
        value = entry.get("path")
        expected = "a relative path glob with / separators, such as roles/**/trust.json"
        if not isinstance(value, str) or not value:
            self.problem(f"{where}.path", f"{value!r} is not valid: expected {expected}")
            return None
        if value.startswith("/") or re.match(r"[A-Za-z]:", value) or "\\" in value:
            self.problem(f"{where}.path", f"{value!r} is not valid: expected {expected}, relative to the config file")
            return None
        if ".." in PurePosixPath(value).parts:
            self.problem(f"{where}.path", f"{value!r} leaves the folder of the config file: expected {expected}")
            return None
        return compile_path_glob(value.removeprefix("./"))

    def _unknown_fields(self, where: str, entry: dict[str, Any], valid: tuple[str, ...]) -> None:
        for name in entry:
            if name not in valid:
                self.problem(f"{where}.{name}", f"unknown field: expected one of {', '.join(valid)}")

    def _property(self, index: int, entry: Any, zone: Zone, zone_valid: bool = True) -> PropertyRule | None:
        where = f"properties[{index}]"
        if not isinstance(entry, dict):
            self.problem(where, f"must be a table with path and require or deny_resources, not {toml_type_name(entry)}")
            return None
        self._unknown_fields(where, entry, _PROPERTY_FIELDS)
        globs_valid, path, resource = self._globs(where, entry)

        names = [p.value for p in Property]
        require: list[Property] = []
        for position, value in enumerate(self._strings(f"{where}.require", entry.get("require", []))):
            if value not in names:
                self.problem(f"{where}.require[{position}]", f"{value!r} is not a property: expected one of {', '.join(names)}")
                continue
            prop = Property(value)
            # An invalid [zone] has its own problems reported; an empty zone
            # here would only repeat them.
            if prop in _ZONE_PROPERTIES and zone.is_empty() and zone_valid:
                self.problem(
                    f"{where}.require[{position}]",
                    f"{value!r} needs a zone of trust: add a [zone] table with accounts, organizations, "
                    "organizational_units or federated",
                )
            require.append(prop)

        denied: list[str] = []
        for position, value in enumerate(self._strings(f"{where}.deny_resources", entry.get("deny_resources", []))):
            if not value:
                self.problem(f"{where}.deny_resources[{position}]", "'' is not valid: expected an ARN glob such as *prod* or arn:aws:s3:::prod-*")
                continue
            denied.append(value)

        if "require" not in entry and "deny_resources" not in entry:
            self.problem(where, "has nothing to check: add require = [\"no-external-access\"] or deny_resources = [\"*prod*\"]")
        if not globs_valid:
            return None
        return PropertyRule(index, self.source, path, tuple(dict.fromkeys(require)), tuple(dict.fromkeys(denied)), resource, self.prefix)

    def _strings(self, where: str, value: Any) -> list[str]:
        if not isinstance(value, list):
            self.problem(where, f"must be a list of strings, not {toml_type_name(value)}")
            return []
        kept = []
        for position, item in enumerate(value):
            if isinstance(item, str):
                kept.append(item)
            else:
                self.problem(f"{where}[{position}]", f"{item!r} is not valid: expected a string")
        return kept

    def _accepted(self, index: int, entry: Any) -> AcceptedChange | None:
        where = f"accepted[{index}]"
        if not isinstance(entry, dict):
            self.problem(where, f"must be a table with path, reason and policy or policy_file, not {toml_type_name(entry)}")
            return None
        self._unknown_fields(where, entry, _ACCEPTED_FIELDS)
        globs_valid, path, resource = self._globs(where, entry)
        reason = entry.get("reason")
        if reason is None:
            self.problem(f"{where}.reason", "missing: say why the new access is granted, for a reviewer and for the report")
        elif not isinstance(reason, str) or not reason.strip():
            self.problem(f"{where}.reason", f"{reason!r} is not valid: expected a non-empty string")
        expires = entry.get("expires")
        if expires is not None and (not isinstance(expires, datetime.date) or isinstance(expires, datetime.datetime)):
            self.problem(f"{where}.expires", f"{expires!r} is not valid: expected a TOML date without quotes, such as 2027-01-31")
            expires = None
        policy = self._accepted_policy(where, entry)
        if not globs_valid or policy is None or not isinstance(reason, str) or not reason.strip():
            return None
        policy_file = entry.get("policy_file")
        return AcceptedChange(index, self.source, path, reason.strip(), policy, expires, policy_file, resource, self.prefix)

    def _accepted_policy(self, where: str, entry: dict[str, Any]) -> PolicyDocument | None:
        inline, file_name = entry.get("policy"), entry.get("policy_file")
        if inline is not None and file_name is not None:
            self.problem(where, "has both policy and policy_file: keep one of them")
            return None
        if inline is None and file_name is None:
            self.problem(where, "missing policy: add policy = { Version = \"2012-10-17\", Statement = [...] } or policy_file = \"PATH\"")
            return None
        if inline is not None:
            if not isinstance(inline, dict):
                self.problem(f"{where}.policy", f"must be an inline table with Version and Statement, not {toml_type_name(inline)}")
                return None
            text = json.dumps(inline, default=str)
            try:
                policy = parse_policy_text(text, f"{self.source} {where}.policy")
            except PolicyError as error:
                for issue in error.issues:
                    self.problem(f"{where}.policy" + (f".{issue.path}" if issue.path else ""), issue.message)
                return None
            return self._allow_only(f"{where}.policy", policy)
        if not isinstance(file_name, str) or not file_name:
            self.problem(f"{where}.policy_file", f"{file_name!r} is not valid: expected the path of a policy file, relative to the config file")
            return None
        try:
            policy = load_policy_file(self.root / file_name)
        except PolicyError as error:
            for issue in error.issues:
                detail = f"{issue.path}: {issue.message}" if issue.path else issue.message
                self.problem(f"{where}.policy_file", f"{file_name!r}: {detail}")
            return None
        return self._allow_only(f"{where}.policy_file", policy)

    def _allow_only(self, where: str, policy: PolicyDocument) -> PolicyDocument | None:
        """Reject Deny statements: an accepted change lists access that is
        granted, and a Deny in it would have no meaning there."""
        denies = policy.deny_statements
        for statement in denies:
            self.problem(
                f"{where}.{statement.path}.Effect",
                "'Deny' is not valid in an accepted change: it lists the access granted on purpose, so use Allow statements only",
            )
        return None if denies else policy
