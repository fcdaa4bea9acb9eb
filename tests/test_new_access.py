"""The listing of every defined action that a policy change newly allows."""

import json

from verifier.new_access import list_new_access
from verifier.policy.parse import parse_policy_text


def document(*statements: dict):
    return parse_policy_text(json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def test_listing_names_each_new_action():
    old = document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    new = document({"Effect": "Allow", "Action": "s3:GetObject*", "Resource": "arn:aws:s3:::b/*"})

    listing = list_new_access(old, new)

    names = [entry.action for entry in listing.entries]
    assert "s3:GetObjectAcl" in names
    assert "s3:GetObjectTagging" in names
    assert "s3:GetObject" not in names
    assert listing.complete
    assert listing.undecided == []


def test_listing_entry_json():
    old = document({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    new = document(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "Tags", "Effect": "Allow", "Action": "s3:PutObjectTagging", "Resource": "arn:aws:s3:::b/*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "data"}}},
    )

    [entry] = list_new_access(old, new).entries

    assert entry.to_json() == {
        "action": "s3:PutObjectTagging",
        "access_level": "Tagging",
        "resources": ["arn:aws:s3:::b/*"],
        "conditions": [{"StringEquals": {"aws:PrincipalTag/team": ["data"]}}],
        "statements": ["Statement[1]"],
    }


def test_listing_respects_new_deny():
    old = document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    new = document(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": ["s3:Put*", "s3:Delete*"], "Resource": "*"},
    )

    names = {entry.action for entry in list_new_access(old, new).entries}

    assert "s3:GetObjectAcl" in names
    assert not any(name.startswith(("s3:Put", "s3:Delete")) for name in names)


def test_listing_sorted_by_service_and_level():
    old = document({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    new = document({"Effect": "Allow", "Action": ["sqs:*", "sns:Publish"], "Resource": "*"})

    entries = list_new_access(old, new).entries

    services = [entry.service for entry in entries]
    assert services == sorted(services)
    sqs_levels = [entry.access_level for entry in entries if entry.service == "sqs"]
    assert sqs_levels.index("Read") < sqs_levels.index("Write")


def test_listing_expands_shared_queries():
    # Every `s3:Get*` action is matched by the same statements, so they share
    # one solver query, and each must still be listed on its own.
    from verifier.catalog import default_catalog

    old = document({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    new = document({"Effect": "Allow", "Action": ["s3:ListBucket", "s3:Get*"], "Resource": "*"})

    listing = list_new_access(old, new)

    listed = [entry.action for entry in listing.entries]
    assert len(listed) == len(set(listed))
    assert set(listed) == set(default_catalog().actions_matching("s3:Get*"))


def test_long_listing_counted_per_service():
    from verifier.new_access import MAX_LISTED_ACTIONS, listing_text

    old = document({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/y"})
    new = document({"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"})

    listing = list_new_access(old, new, timeout=60)
    lines = listing_text(listing)

    assert len(listing.entries) > MAX_LISTED_ACTIONS
    assert lines[0] == f"  newly allowed actions ({len(listing.entries)}):"
    assert "so counted per service" in lines[1]
    services = [line.strip().split(":")[0] for line in lines[2:]]
    assert services == ["ec2", "s3"]
    assert len(lines) == 4
