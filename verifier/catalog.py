"""Look up AWS services, actions, resource types and condition keys.

The data is a snapshot of the AWS Service Authorization Reference bundled as
`verifier/data/catalog.json.gz`. `tools/refresh_catalog.py` rebuilds it, and
`verifier/data/README.md` records its source. Importing this module does not
read the file: a `Catalog` loads it on the first lookup.

Names are matched case-insensitively, as IAM matches action names, and every
result carries the canonical spelling from the reference.
"""

from __future__ import annotations

import functools
import gzip
import importlib.resources
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from verifier.errors import InternalError

FORMAT_VERSION = 1

# A placeholder in a documented key name, such as `${TagKey}` in
# `aws:RequestTag/${TagKey}` or `<key>` in `s3:ExistingObjectTag/<key>`.
_PLACEHOLDER = re.compile(r"\$\{[^}]*\}|<[^>]*>")


@dataclass(frozen=True)
class CatalogSource:
    """Provenance of the bundled snapshot."""

    package: str
    version: str
    license: str
    file: str
    schema_version: str | None
    wheel_sha256: str
    refresh_date: str


@dataclass(frozen=True)
class ResourceType:
    """A resource type of one service, such as `object` of `s3`."""

    name: str
    arn_formats: tuple[str, ...]
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class ActionResource:
    """A resource type that an action accepts in its Resource element.

    `condition_keys` are the keys the reference lists for the action on the
    row of this resource type.
    """

    resource_type: ResourceType
    required: bool
    condition_keys: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    """An action of the reference, such as `s3:GetObject`.

    `access_level` is one of List, Read, Write, Permissions management and
    Tagging. `condition_keys` is the sorted union of the keys on every row of
    the action, with or without a resource type.
    """

    name: str
    access_level: str
    resource_types: tuple[ActionResource, ...]
    condition_keys: tuple[str, ...]

    @property
    def service_prefix(self) -> str:
        return self.name.split(":", 1)[0]


@dataclass(frozen=True)
class Service:
    """A service of the reference, keyed by its lowercase prefix.

    `action_names` contains the canonical full names (`s3:GetObject`), sorted.
    `condition_keys` maps each key that the service documents to its type
    (String, ARN, Numeric, Date, Bool, IPAddress, ArrayOfString, ...).
    """

    prefix: str
    name: str
    action_names: tuple[str, ...]
    resource_types: Mapping[str, ResourceType]
    condition_keys: Mapping[str, str]


@dataclass(frozen=True)
class _KeyTemplate:
    pattern: re.Pattern[str]
    key_type: str


def _read_bundled_snapshot() -> bytes:
    resource = importlib.resources.files("verifier").joinpath("data").joinpath("catalog.json.gz")
    return resource.read_bytes()


@functools.lru_cache(maxsize=8192)
def _compile_wildcards(text: str) -> re.Pattern[str]:
    """Compile an IAM wildcard pattern, where `*` matches any run of characters and `?` one."""
    parts = []
    for character in text:
        if character == "*":
            parts.append(".*")
        elif character == "?":
            parts.append(".")
        else:
            parts.append(re.escape(character))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _compile_key_template(key: str) -> re.Pattern[str] | None:
    """Compile a templated key name, or return None for a plain one.

    Each placeholder matches one or more characters, because tag keys and the
    other names that fill a placeholder may contain `/` and `:`.
    """
    pieces = _PLACEHOLDER.split(key)
    if key.endswith("/"):
        # A few services list the bare `ResourceTag/` for `ResourceTag/${TagKey}`.
        pieces.append("")
    if len(pieces) == 1:
        return None
    return re.compile(".+".join(re.escape(piece) for piece in pieces), re.IGNORECASE | re.DOTALL)


class Catalog:
    """Services, actions and condition keys of one catalog snapshot.

    Construction reads nothing. The first lookup reads and indexes the file,
    which took 110 to 130 ms for the bundled snapshot with CPython 3.11 on a
    2-core AMD EPYC virtual machine.
    """

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._loaded = False
        self._source: CatalogSource | None = None
        self._raw_services: dict[str, dict[str, Any]] = {}
        # Per service prefix: lowercase action name -> canonical action name.
        self._action_index: dict[str, dict[str, str]] = {}
        self._action_names: dict[str, tuple[str, ...]] = {}
        self._services: dict[str, Service] = {}
        self._actions: dict[str, Action] = {}
        self._key_types: dict[str, str] = {}
        # Templated keys, grouped by their lowercase text before the first colon.
        self._key_templates: dict[str, list[_KeyTemplate]] = {}

    @property
    def is_loaded(self) -> bool:
        return self._loaded

    @property
    def source(self) -> CatalogSource:
        self._ensure_loaded()
        assert self._source is not None
        return self._source

    def service_prefixes(self) -> tuple[str, ...]:
        """Return the prefixes of every service in the snapshot, sorted."""
        self._ensure_loaded()
        return tuple(sorted(self._raw_services))

    def service(self, prefix: str) -> Service | None:
        """Return the service with this prefix, or None if the snapshot has none."""
        self._ensure_loaded()
        prefix = prefix.lower()
        cached = self._services.get(prefix)
        if cached is not None:
            return cached
        raw = self._raw_services.get(prefix)
        if raw is None:
            return None

        resource_types = {
            name: ResourceType(name, tuple(entry["arn_formats"]), tuple(entry["condition_keys"]))
            for name, entry in raw["resource_types"].items()
        }
        service = Service(
            prefix=prefix,
            name=raw["name"],
            action_names=self._action_names[prefix],
            resource_types=MappingProxyType(resource_types),
            condition_keys=MappingProxyType(dict(raw["condition_keys"])),
        )
        self._services[prefix] = service
        return service

    def action(self, name: str) -> Action | None:
        """Return the action named `service:Action` in any case, or None if unknown."""
        self._ensure_loaded()
        prefix, colon, action_name = name.partition(":")
        if not colon:
            return None
        prefix = prefix.lower()
        canonical = self._action_index.get(prefix, {}).get(action_name.lower())
        if canonical is None:
            return None
        full_name = f"{prefix}:{canonical}"
        cached = self._actions.get(full_name)
        if cached is not None:
            return cached

        service = self.service(prefix)
        assert service is not None
        entry = self._raw_services[prefix]["actions"][canonical]
        resources = tuple(
            ActionResource(
                resource_type=service.resource_types[row["type"]],
                required=row["required"],
                condition_keys=tuple(row["condition_keys"]),
            )
            for row in entry["resource_types"]
        )
        all_keys = set(entry["condition_keys"])
        for resource in resources:
            all_keys.update(resource.condition_keys)
        action = Action(
            name=full_name,
            access_level=entry["access_level"],
            resource_types=resources,
            condition_keys=tuple(sorted(all_keys)),
        )
        self._actions[full_name] = action
        return action

    def actions_matching(self, pattern_text: str) -> list[str]:
        """Return the canonical names of the actions that an IAM action pattern matches, sorted.

        `*` matches any run of characters and `?` any one character, ignoring
        case. A pattern with a literal service prefix searches only that
        service, and any other pattern scans every service.
        """
        self._ensure_loaded()
        service_part, colon, action_part = pattern_text.partition(":")
        if not colon:
            # With no colon, only a wildcard can span the `service:` separator.
            pattern = _compile_wildcards(pattern_text)
            return sorted(
                name
                for names in self._action_names.values()
                for name in names
                if pattern.fullmatch(name)
            )

        if "*" in service_part or "?" in service_part:
            service_pattern = _compile_wildcards(service_part)
            prefixes = [prefix for prefix in self._action_names if service_pattern.fullmatch(prefix)]
        else:
            prefixes = [service_part.lower()] if service_part.lower() in self._action_names else []

        if action_part == "*":
            return sorted(name for prefix in prefixes for name in self._action_names[prefix])
        # Fast paths for the common shapes `Name` and `Prefix*`. They are
        # limited to ASCII text, where lower() agrees with re.IGNORECASE.
        stem = action_part[:-1] if action_part.endswith("*") else action_part
        if action_part.isascii() and "*" not in stem and "?" not in stem:
            lowered = stem.lower()
            matches = []
            for prefix in prefixes:
                index = self._action_index[prefix]
                if stem == action_part:
                    canonical = index.get(lowered)
                    matches += [f"{prefix}:{canonical}"] if canonical is not None else []
                else:
                    matches += [f"{prefix}:{name}" for lower, name in index.items() if lower.startswith(lowered)]
            return sorted(matches)
        # Action names contain no colon, so the separator cannot fall inside
        # a wildcard of the action part.
        action_pattern = _compile_wildcards(action_part)
        matches = []
        for prefix in prefixes:
            for lower, canonical in self._action_index[prefix].items():
                if action_pattern.fullmatch(lower):
                    matches.append(f"{prefix}:{canonical}")
        return sorted(matches)

    def condition_key_type(self, key: str) -> str | None:
        """Return the documented type of a service condition key, or None if unknown.

        A key matches its exact entry first, then a templated entry, so
        `aws:requesttag/team` finds `aws:RequestTag/${TagKey}`.
        """
        self._ensure_loaded()
        lowered = key.lower()
        key_type = self._key_types.get(lowered)
        if key_type is not None:
            return key_type
        key_prefix = lowered.partition(":")[0]
        for template in self._key_templates.get(key_prefix, ()):
            if template.pattern.fullmatch(key):
                return template.key_type
        # NOTE: global keys such as aws:SourceIp are not in the reference, so
        # they return None here. verifier.keys.DOCUMENTED_TYPES types some of them.
        return None

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True

    def _load(self) -> None:
        path = self._path or "verifier/data/catalog.json.gz"
        try:
            compressed = self._path.read_bytes() if self._path else _read_bundled_snapshot()
            data = json.loads(gzip.decompress(compressed))
        except (OSError, ValueError) as error:
            raise InternalError(
                f"failed to read the action catalog {path}: {error}. "
                "Reinstall iamverify, or rebuild the file with tools/refresh_catalog.py"
            ) from error
        if data.get("format") != FORMAT_VERSION:
            raise InternalError(
                f"action catalog {path} has format {data.get('format')!r}, expected "
                f"{FORMAT_VERSION}. Rebuild it with tools/refresh_catalog.py"
            )

        self._source = CatalogSource(**data["source"])
        self._raw_services = data["services"]
        for prefix, raw in self._raw_services.items():
            actions = raw["actions"]
            self._action_index[prefix] = {name.lower(): name for name in actions}
            self._action_names[prefix] = tuple(sorted(f"{prefix}:{name}" for name in actions))
        self._index_condition_keys()

    def _index_condition_keys(self) -> None:
        """Index every documented key by its lowercase name.

        Some keys are listed by several services. When their types disagree
        (identitystore:UserId is String in identitystore and ArrayOfString in
        q), the entry of the service whose prefix starts the key wins, and
        otherwise the first service in prefix order.
        """
        owners: dict[str, str] = {}
        for prefix in sorted(self._raw_services):
            for key, key_type in self._raw_services[prefix]["condition_keys"].items():
                lowered = key.lower()
                key_prefix = lowered.partition(":")[0]
                if lowered in owners and owners[lowered] == key_prefix:
                    continue
                if lowered in owners and prefix != key_prefix:
                    continue
                owners[lowered] = prefix
                self._key_types[lowered] = key_type

        for lowered in sorted(self._key_types):
            pattern = _compile_key_template(lowered)
            if pattern is not None:
                key_prefix = lowered.partition(":")[0]
                template = _KeyTemplate(pattern, self._key_types[lowered])
                self._key_templates.setdefault(key_prefix, []).append(template)


_default_catalog: Catalog | None = None
_default_lock = threading.Lock()


def default_catalog() -> Catalog:
    """Return the shared catalog of the bundled snapshot, created on first call."""
    global _default_catalog
    if _default_catalog is None:
        with _default_lock:
            if _default_catalog is None:
                _default_catalog = Catalog()
    return _default_catalog
