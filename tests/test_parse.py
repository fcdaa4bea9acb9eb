"""Validation of policy text by `parse_policy_text`.

Each problem is an `Issue` with a JSON path, such as
`Statement[2].Condition.StringLike`, and a message. Validation collects the
problems of the whole document before it raises `PolicyError`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from verifier.errors import Issue, PolicyError
from verifier.policy.document import Effect, PolicyDocument
from verifier.policy.parse import parse_policy_text
from verifier.policy.pattern import Variable

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

READ = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}


def document_with(*statements: dict[str, Any], version: str | None = VERSION_2012) -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def parse(content: str | dict[str, Any]) -> PolicyDocument:
    text = content if isinstance(content, str) else json.dumps(content)
    return parse_policy_text(text, "p.json")


def issues(content: str | dict[str, Any]) -> list[Issue]:
    with pytest.raises(PolicyError) as raised:
        parse(content)
    assert raised.value.source == "p.json"
    return raised.value.issues


# --- One problem per document ------------------------------------------------

# (id, statement elements added to READ, JSON path, start of the message)
STATEMENT_ERROR_ROWS = [
    ("unknown-key", {"Comment": "x"}, "Statement[0].Comment", "unknown key `Comment`"),
    ("lowercase-key", {"effect": "Allow"}, "Statement[0].effect", "unknown key `effect`"),
    ("action-and-not-action", {"NotAction": "s3:PutObject"}, "Statement[0].NotAction", "`Action` and `NotAction` cannot both appear"),
    ("resource-and-not-resource", {"NotResource": "*"}, "Statement[0].NotResource", "`Resource` and `NotResource` cannot both appear"),
    ("bad-effect", {"Effect": "allow"}, "Statement[0].Effect", "invalid effect `allow`"),
    ("effect-number", {"Effect": 1}, "Statement[0].Effect", "invalid effect `1`"),
    ("unknown-operator", {"Condition": {"StringEqual": {"a": "b"}}}, "Statement[0].Condition.StringEqual", "unknown condition operator `StringEqual`; did you mean `StringEquals`?"),
    ("operator-case", {"Condition": {"stringequals": {"a": "b"}}}, "Statement[0].Condition.stringequals", "unknown condition operator `stringequals`; did you mean `StringEquals`?"),
    ("unknown-qualifier", {"Condition": {"ForSomeValues:StringEquals": {"a": "b"}}}, "Statement[0].Condition.ForSomeValues:StringEquals", "unknown set qualifier `ForSomeValues`"),
    ("null-with-qualifier", {"Condition": {"ForAnyValue:Null": {"a": "true"}}}, "Statement[0].Condition.ForAnyValue:Null", "`Null` takes neither a set qualifier nor `IfExists`"),
    ("null-if-exists", {"Condition": {"NullIfExists": {"a": "true"}}}, "Statement[0].Condition.NullIfExists", "`Null` takes neither"),
    ("wildcard-in-service", {"Action": "s3*:Get"}, "Statement[0].Action", "invalid action `s3*:Get`: a wildcard cannot appear in the service prefix"),
    ("question-in-service", {"Action": "s?:GetObject"}, "Statement[0].Action", "invalid action `s?:GetObject`: a wildcard"),
    ("action-without-service", {"Action": "GetObject"}, "Statement[0].Action", "invalid action `GetObject`"),
    ("action-without-name", {"Action": "s3:"}, "Statement[0].Action", "invalid action `s3:`"),
    ("empty-action-list", {"Action": []}, "Statement[0].Action", "empty list"),
    ("empty-action-string", {"Action": ""}, "Statement[0].Action", "empty string"),
    ("empty-resource-list", {"Resource": []}, "Statement[0].Resource", "empty list"),
    ("resource-not-arn", {"Resource": "reports/*"}, "Statement[0].Resource", "invalid resource `reports/*`"),
    ("resource-number", {"Resource": 5}, "Statement[0].Resource", "expected a string or a list of strings, found the number `5`"),
    ("resource-object", {"Resource": {"Arn": "*"}}, "Statement[0].Resource", "expected a string or a list of strings, found an object"),
    ("action-boolean-item", {"Action": ["s3:GetObject", True]}, "Statement[0].Action[1]", "expected a string, found the boolean `true`"),
    ("action-null-item", {"Action": ["s3:GetObject", None]}, "Statement[0].Action[1]", "expected a string, found `null`"),
    ("condition-list", {"Condition": [{"StringEquals": {"a": "b"}}]}, "Statement[0].Condition", "expected an object mapping condition operators to keys"),
    ("condition-block-empty", {"Condition": {"StringEquals": {}}}, "Statement[0].Condition.StringEquals", "empty object"),
    ("condition-values-empty", {"Condition": {"StringEquals": {"a": []}}}, "Statement[0].Condition.StringEquals.a", "empty list"),
    ("condition-value-object", {"Condition": {"StringEquals": {"a": {"b": "c"}}}}, "Statement[0].Condition.StringEquals.a", "expected a string, number or boolean, found an object"),
    ("condition-value-null", {"Condition": {"StringEquals": {"a": None}}}, "Statement[0].Condition.StringEquals.a", "expected a string, number or boolean, found `null`"),
    ("numeric-not-number", {"Condition": {"NumericLessThan": {"a": "ten"}}}, "Statement[0].Condition.NumericLessThan.a", "invalid value `ten`"),
    ("date-not-date", {"Condition": {"DateLessThan": {"a": "2024-13-01T00:00:00Z"}}}, "Statement[0].Condition.DateLessThan.a", "invalid value `2024-13-01T00:00:00Z`"),
    ("bool-not-boolean", {"Condition": {"Bool": {"a": "yes"}}}, "Statement[0].Condition.Bool.a", "invalid value `yes`"),
    ("null-not-boolean", {"Condition": {"Null": {"a": "absent"}}}, "Statement[0].Condition.Null.a", "invalid value `absent`"),
    ("ip-not-address", {"Condition": {"IpAddress": {"a": "10.0.0.256/8"}}}, "Statement[0].Condition.IpAddress.a", "invalid value `10.0.0.256/8`"),
    ("principal-and-not-principal", {"Principal": "*", "NotPrincipal": "*"}, "Statement[0].NotPrincipal", "`Principal` and `NotPrincipal` cannot both appear"),
    ("principal-unknown-type", {"Principal": {"Aws": "*"}}, "Statement[0].Principal.Aws", "unknown principal type `Aws`"),
    ("principal-empty", {"Principal": {}}, "Statement[0].Principal", "empty object"),
    ("principal-string", {"Principal": "arn:aws:iam::111122223333:root"}, "Statement[0].Principal", "expected `*` or an object"),
]


@pytest.mark.parametrize(
    ("elements", "path", "message_start"),
    [row[1:] for row in STATEMENT_ERROR_ROWS],
    ids=[row[0] for row in STATEMENT_ERROR_ROWS],
)
def test_statement_error(elements, path, message_start):
    [issue] = issues(document_with({**READ, **elements}))

    assert issue.path == path
    assert issue.message.startswith(message_start), issue.message


# (id, whole document text, JSON path, start of the message)
DOCUMENT_ERROR_ROWS = [
    ("invalid-json", '{"Statement": [', "", "invalid JSON at line 1, column 16"),
    ("trailing-comma", '{"Statement": {"Effect": "Allow",}}', "", "invalid JSON at line 1, column 34"),
    ("nan-constant", '{"Statement": {"Effect": NaN}}', "", "invalid JSON"),
    ("empty-text", "  \n", "", "file is empty"),
    ("top-level-list", "[]", "", "expected a JSON object with a `Statement`, found a list"),
    ("missing-statement", '{"Version": "2012-10-17"}', "Statement", "missing `Statement`"),
    ("empty-statement-list", '{"Statement": []}', "Statement", "empty list; a policy needs at least one statement"),
    ("statement-string", '{"Statement": "Allow"}', "Statement", "expected an object or a list of objects, found the string `Allow`"),
    ("statement-item-list", '{"Statement": [[]]}', "Statement[0]", "expected a statement object, found a list"),
    ("unknown-top-key", '{"Comment": "x", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', "Comment", "unknown key `Comment`"),
    ("bad-version", '{"Version": "2012-10-18", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', "Version", "invalid version `2012-10-18`"),
    ("version-as-date-number", '{"Version": 20121017, "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', "Version", "invalid version `20121017`"),
    ("missing-effect", '{"Statement": {"Action": "*", "Resource": "*"}}', "Statement.Effect", "missing `Effect`"),
    ("missing-action", '{"Statement": {"Effect": "Allow", "Resource": "*"}}', "Statement", "missing `Action` or `NotAction`"),
    ("missing-resource", '{"Statement": {"Effect": "Allow", "Action": "*"}}', "Statement", "missing `Resource` or `NotResource`"),
    ("deep-nesting", '{"Statement": ' + "[" * 80 + "]" * 80 + "}", "", "document is nested deeper than"),
]


@pytest.mark.parametrize(
    ("text", "path", "message_start"),
    [row[1:] for row in DOCUMENT_ERROR_ROWS],
    ids=[row[0] for row in DOCUMENT_ERROR_ROWS],
)
def test_document_error(text, path, message_start):
    [issue] = issues(text)

    assert issue.path == path
    assert issue.message.startswith(message_start), issue.message


def test_issue_format_with_and_without_path():
    assert Issue("Statement[0].Effect", "missing `Effect`").format("p.json") == "p.json: Statement[0].Effect: missing `Effect`"
    assert Issue("", "file not found").format("p.json") == "p.json: file not found"


def test_policy_error_message_lists_every_issue():
    with pytest.raises(PolicyError) as raised:
        parse(document_with({**READ, "Effect": "allow", "Resource": []}))

    assert str(raised.value).splitlines() == [
        "p.json: Statement[0].Effect: invalid effect `allow`; expected `Allow` or `Deny`",
        "p.json: Statement[0].Resource: empty list; give at least one value",
    ]


# --- JSON paths --------------------------------------------------------------


def test_path_names_statement_index_and_operator():
    document = document_with(READ, READ, {**READ, "Condition": {"StringLike": "reports/*"}})

    [issue] = issues(document)

    assert issue.path == "Statement[2].Condition.StringLike"


def test_path_names_condition_key_and_value_index():
    condition = {"NumericLessThan": {"aws:MultiFactorAuthAge": ["3600", "an hour"]}}

    [issue] = issues(document_with(READ, {**READ, "Condition": condition}))

    assert issue.path == "Statement[1].Condition.NumericLessThan.aws:MultiFactorAuthAge[1]"


def test_path_names_list_item():
    [issue] = issues(document_with({**READ, "Action": ["s3:GetObject", "s3*:Get"]}))

    assert issue.path == "Statement[0].Action[1]"


def test_single_statement_object_path_has_no_index():
    [issue] = issues({"Version": VERSION_2012, "Statement": {**READ, "Effect": "Permit"}})

    assert issue.path == "Statement.Effect"


def test_errors_of_all_statements_collected():
    document = document_with(
        {**READ, "Effect": "allow"},
        READ,
        {**READ, "Action": "s3*:Get", "Resource": []},
        {**READ, "Condition": {"Bool": {"aws:SecureTransport": "yes"}}},
    )

    found = issues(document)

    assert [issue.path for issue in found] == [
        "Statement[0].Effect",
        "Statement[2].Action",
        "Statement[2].Resource",
        "Statement[3].Condition.Bool.aws:SecureTransport",
    ]


# --- Statement forms ---------------------------------------------------------


def test_single_statement_object_parsed():
    policy = parse({"Version": VERSION_2012, "Statement": READ})

    [statement] = policy.statements
    assert statement.index == 0
    assert statement.effect is Effect.ALLOW
    assert statement.actions == ("s3:GetObject",)
    assert statement.resources == ("arn:aws:s3:::reports/*",)


def test_statement_list_parsed_in_order():
    deny = {"Sid": "NoDelete", "Effect": "Deny", "Action": ["s3:DeleteObject", "s3:DeleteBucket"], "NotResource": "arn:aws:s3:::tmp/*"}

    policy = parse(document_with(READ, deny))

    assert [s.index for s in policy.statements] == [0, 1]
    assert [s.effect for s in policy.statements] == [Effect.ALLOW, Effect.DENY]
    assert policy.statements[1].sid == "NoDelete"
    assert policy.statements[1].actions == ("s3:DeleteObject", "s3:DeleteBucket")
    assert policy.statements[1].resources is None
    assert policy.statements[1].not_resources == ("arn:aws:s3:::tmp/*",)


def test_principal_makes_resource_optional():
    trust = {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}

    [statement] = parse(document_with(trust)).statements

    assert statement.resources is None
    assert statement.principal is not None
    assert statement.principal.aws == ("111122223333",)


def test_top_level_id_kept():
    policy = parse({"Version": VERSION_2012, "Id": "reports-read", "Statement": READ})

    assert policy.id == "reports-read"


# --- Version -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "substitutes"),
    [(VERSION_2012, True), (VERSION_2008, False), (None, False)],
    ids=["2012", "2008", "missing"],
)
def test_version_controls_variables(version, substitutes):
    statement = {**READ, "Resource": "arn:aws:s3:::home/${aws:username}/*"}

    policy = parse(document_with(statement, version=version))

    [parsed] = policy.statements
    assert policy.version == version
    assert parsed.version == version
    assert parsed.substitutes_variables is substitutes
    [pattern] = parsed.resource_patterns()
    assert (Variable("aws:username") in pattern) is substitutes


def test_bool_variable_needs_2012():
    condition = {"Bool": {"aws:SecureTransport": "${test:flag}"}}

    parse(document_with({**READ, "Condition": condition}, version=VERSION_2012))
    [issue] = issues(document_with({**READ, "Condition": condition}, version=VERSION_2008))

    assert issue.path == "Statement[0].Condition.Bool.aws:SecureTransport"


# --- Condition values as text ------------------------------------------------


def condition_values(text: str) -> tuple[str, ...]:
    [statement] = parse(text).statements
    [condition] = statement.conditions
    return condition.values


@pytest.mark.parametrize(
    ("json_value", "expected"),
    [
        ("3600", ("3600",)),
        ("1.50", ("1.50",)),
        ("-0.0", ("-0.0",)),
        ("1e3", ("1e3",)),
        ("true", ("true",)),
        ("false", ("false",)),
        ('[1, "2", 3.0]', ("1", "2", "3.0")),
    ],
    ids=["integer", "trailing-zero", "negative-zero", "exponent", "true", "false", "mixed-list"],
)
def test_json_condition_value_kept_as_text(json_value, expected):
    operator = "Bool" if json_value in ("true", "false") else "NumericLessThan"
    text = (
        '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", '
        f'"Condition": {{"{operator}": {{"test:key": {json_value}}}}}}}}}'
    )

    assert condition_values(text) == expected


def test_yaml_condition_values_kept_as_text():
    text = """\
Version: 2012-10-17
Statement:
  Effect: Allow
  Action: "*"
  Resource: "*"
  Condition:
    NumericLessThan:
      aws:MultiFactorAuthAge: [3600, 1.50]
"""
    policy = parse(text)

    assert policy.version == VERSION_2012
    assert policy.statements[0].conditions[0].values == ("3600", "1.50")


def test_yaml_boolean_condition_value():
    text = 'Statement: {Effect: Allow, Action: "*", Resource: "*", Condition: {Bool: {aws:SecureTransport: true}}}'

    assert condition_values(text) == ("true",)


def test_number_in_action_rejected():
    # Condition values may be numbers, but Action items must be strings.
    [issue] = issues('{"Statement": {"Effect": "Allow", "Action": 3, "Resource": "*"}}')

    assert issue.path == "Statement.Action"
    assert issue.message == "expected a string or a list of strings, found the number `3`"


# --- Duplicate keys ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"Version": "2012-10-17", "Version": "2008-10-17", "Statement": []}', "Version"),
        ('{"Statement": {"Effect": "Allow", "Effect": "Deny", "Action": "*", "Resource": "*"}}', "Effect"),
        (
            '{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*",'
            ' "Condition": {"StringEquals": {"a": "1", "a": "2"}}}}',
            "a",
        ),
    ],
    ids=["top-level", "statement", "condition-key"],
)
def test_duplicate_json_key_rejected(text, key):
    [issue] = issues(text)

    assert issue.path == ""
    assert issue.message == f"duplicate key `{key}` in a JSON object"


# --- Value types and list items ----------------------------------------------


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"Version": VERSION_2012, "Statement": [{**READ, "Sid": 1}]}, "Statement[0].Sid"),
        ({"Version": VERSION_2012, "Id": 5, "Statement": [READ]}, "Id"),
    ],
    ids=["sid", "id"],
)
def test_number_rejected_where_string_expected(document, path):
    [issue] = issues(document)

    assert issue.path == path
    assert issue.message.startswith("expected a string, found the number")


@pytest.mark.parametrize(
    ("elements", "paths"),
    [
        ({"Action": ["s3*:Get", ""]}, ["Statement[0].Action[1]", "Statement[0].Action[0]"]),
        ({"Resource": ["reports", 5]}, ["Statement[0].Resource[1]", "Statement[0].Resource[0]"]),
    ],
    ids=["action", "resource"],
)
def test_every_invalid_list_item_reported(elements, paths):
    found = issues(document_with({**READ, **elements}))

    assert sorted(issue.path for issue in found) == sorted(paths)


def test_duplicate_yaml_key_rejected():
    text = 'Statement:\n  Effect: Allow\n  Effect: Deny\n  Action: "*"\n  Resource: "*"\n'

    [issue] = issues(text)

    assert "duplicate key `Effect`" in issue.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("? [a]\n: b\n", "a list"),
        ("Statement:\n  ? {Effect: Allow}\n  : x\n", "an object"),
    ],
)
def test_unhashable_yaml_key_rejected(text, kind):
    [issue] = issues(text)

    assert f"{kind} is not a valid mapping key" in issue.message


def build_alias_yaml(levels: int) -> str:
    """Return YAML whose Statement list expands to 10**levels statements through aliases."""
    lines = ['s0: &s0 {Effect: Allow, Action: "s3:GetObject", Resource: "*"}']
    for level in range(1, levels + 1):
        lines.append(f"s{level}: &s{level} [" + ", ".join([f"*s{level - 1}"] * 10) + "]")
    lines.append(f"Statement: *s{levels}")
    return "\n".join(lines) + "\n"


def test_yaml_alias_expansion_rejected():
    [issue] = issues(build_alias_yaml(9))

    assert "aliases expand the document to more than 1,000,000 values" in issue.message


def test_recursive_yaml_alias_rejected():
    [issue] = issues("Statement: &s [*s]\n")

    assert "aliases expand the document" in issue.message


def test_small_yaml_alias_expansion_accepted():
    text = 'base: &b {Effect: Allow, Action: "s3:GetObject", Resource: "*"}\nStatement: [*b, *b]\n'

    [issue] = issues(text)

    # Only the unknown top-level key is reported, not the aliases.
    assert issue.path == "base"


def test_bare_number_file_named_number():
    [issue] = issues("42")

    assert issue.message == "expected a JSON object with a `Statement`, found the number `42`"


def test_json_string_holding_document():
    text = json.dumps(json.dumps({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}))

    document = parse_policy_text(text)

    assert len(document.statements) == 1


def test_statement_lines_json():
    text = '{\n  "Statement": [\n    {"Effect": "Allow", "Action": "*", "Resource": "*"},\n\n    {"Effect": "Deny", "Action": "*", "Resource": "*"}\n  ]\n}'

    document = parse_policy_text(text)

    assert [s.line for s in document.statements] == [3, 5]


def test_statement_lines_yaml():
    text = "Statement:\n  - Effect: Allow\n    Action: '*'\n    Resource: '*'\n  - Effect: Deny\n    Action: '*'\n    Resource: '*'\n"

    document = parse_policy_text(text)

    assert [s.line for s in document.statements] == [2, 5]


def test_statement_lines_absent_when_embedded():
    inner = json.dumps({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    text = json.dumps({"PolicyDocument": inner})

    document = parse_policy_text(text)

    assert document.statements[0].line is None
