"""The symbolic request: action, resource and context keys as z3 constants.

The action is held in ASCII lowercase, because action matching ignores case
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html):
a request and its lowercased form match the same statements.
"""

from __future__ import annotations

import re

from dataclasses import dataclass, field

import z3

from verifier.encode.principal import Kind, PrincipalModel
from verifier.keys import KeyInfo, KeyType
from verifier.policy.document import PolicyDocument


# Actions a federated identity calls, in lowercase like the request action.
FEDERATION_ACTIONS = (
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
)


@dataclass
class Element:
    """One value of a key. Only the fields of the key's type are set."""

    text: z3.SeqRef | None = None
    number: z3.ArithRef | None = None
    flag: z3.BoolRef | None = None
    is_v6: z3.BoolRef | None = None
    address: z3.BitVecRef | None = None
    # False when the value does not parse as the key's type.
    parses: z3.BoolRef | None = None


@dataclass
class KeyModel:
    """A condition key: whether it is present, how many values it has (for a
    multivalued key) and the values themselves."""

    info: KeyInfo
    present: z3.BoolRef
    count: z3.ArithRef | None
    elements: list[Element]
    domain: list[z3.BoolRef] = field(default_factory=list)

    def used(self, index: int) -> z3.BoolRef:
        """True when element `index` belongs to the request's set of values."""
        if self.count is None:
            return z3.BoolVal(index == 0)
        return self.count > index

    def single(self) -> z3.BoolRef:
        """True when the key has exactly one value."""
        if self.count is None:
            return z3.BoolVal(True)
        return self.count == 1


def symbol_text(name: str) -> str:
    """Spell a condition key for an SMT-LIB symbol.

    A quoted symbol cannot hold `|` or `\\`, so those and `%` are written
    as `%XX`, which keeps distinct keys distinct.
    """
    return "".join(f"%{ord(char):02X}" if char in "|\\%" else char for char in name)


class SymRequest:
    def __init__(self, keys: dict[str, KeyInfo]) -> None:
        self.action = z3.String("action")
        self.resource = z3.String("resource")
        # True when a statement names principals; otherwise a counterexample
        # leaves the principal out, as the identity-policy case needs.
        self.uses_principal = False
        # Partitions that a principal in an ARN form may have; empty for any.
        # See `named_partitions`.
        self.partitions: tuple[str, ...] = ()
        self.principal_model = PrincipalModel()
        self.infos = keys
        self.keys: dict[str, KeyModel] = {}

    def key(self, name: str) -> KeyModel:
        model = self.keys.get(name)
        if model is None:
            model = self._make_key(self.infos[name])
            self.keys[name] = model
        return model

    def domain(self) -> list[z3.BoolRef]:
        """Constraints that hold in every real request, for keys in use."""
        constraints: list[z3.BoolRef] = []
        for model in self.keys.values():
            constraints.extend(model.domain)
        return constraints

    def principal_cases(self) -> list[tuple[int, list[z3.BoolRef]]]:
        """Per form of the principal, the shape of its parts and the facts
        that tie it to the keys in use. Empty when no statement names
        principals: the principal is then left out of the request."""
        if not self.uses_principal:
            return []
        return [(kind, self.principal_facts(kind)) for kind in Kind.ALL]

    def principal_facts(self, kind: int) -> list[z3.BoolRef]:
        """Return the facts of a principal of form `kind`, including the
        actions it can call. A web identity or SAML identity calls only the
        STS federation actions, because every other AWS API call is signed
        with AWS credentials or is anonymous
        (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_request.html)."""
        facts = self.principal_model.cases(self.keys, (kind,))[0][1]
        if self.partitions and kind in Kind.ARN:
            facts.append(z3.Or(*[self.principal_model.partition == z3.StringVal(p) for p in self.partitions]))
        if kind == Kind.FEDERATED:
            facts.append(z3.Or(*[self.action == z3.StringVal(name) for name in FEDERATION_ACTIONS]))
        return facts

    def variables(self) -> list[z3.ExprRef]:
        """Return every z3 constant of the request created so far."""
        found: list[z3.ExprRef] = [self.action, self.resource]
        if self.uses_principal:
            found += self.principal_model.variables()
        for model in self.keys.values():
            found.append(model.present)
            if model.count is not None:
                found.append(model.count)
            for element in model.elements:
                for term in (element.text, element.number, element.flag, element.is_v6, element.address, element.parses):
                    if term is not None and z3.is_const(term) and term.decl().kind() == z3.Z3_OP_UNINTERPRETED:
                        found.append(term)
        return found

    def _make_key(self, info: KeyInfo) -> KeyModel:
        prefix = f"key!{symbol_text(info.name)}"
        present = z3.Bool(f"{prefix}!present")
        count = None
        domain: list[z3.BoolRef] = []
        if info.multivalued:
            count = z3.Int(f"{prefix}!count")
            domain += [count >= 1, count <= info.bound]
        elements = [self._make_element(info, f"{prefix}!{i}", domain) for i in range(info.bound)]
        return KeyModel(info=info, present=present, count=count, elements=elements, domain=domain)

    @staticmethod
    def _make_element(info: KeyInfo, name: str, domain: list[z3.BoolRef]) -> Element:
        if info.type is KeyType.STRING:
            return Element(text=z3.String(name))
        parses = z3.BoolVal(True) if info.well_typed else z3.Bool(f"{name}!parses")
        if info.type in (KeyType.NUMERIC, KeyType.DATE):
            return Element(number=z3.Real(name), parses=parses)
        if info.type is KeyType.BOOL:
            return Element(flag=z3.Bool(name), parses=parses)
        address = z3.BitVec(name, 128)
        is_v6 = z3.Bool(f"{name}!v6")
        domain.append(z3.Or(is_v6, z3.ULT(address, z3.BitVecVal(1 << 32, 128))))
        return Element(is_v6=is_v6, address=address, parses=parses)


_ARN_PARTITION = re.compile(r"arn:([^:]*):")


def named_partitions(policies: list[PolicyDocument]) -> tuple[str, ...]:
    """Return the partitions that the ARNs of the policies name, or () when
    they name none or one of them puts a wildcard or variable there.

    Partitions are isolated: a principal of `aws-cn` cannot reach a resource
    in `aws`, so the policies' own ARNs show where they apply. The docs do
    not say how a bare account ID in Principal reads outside `aws`. With
    this restriction, `"111122223333"` and `arn:aws:iam::111122223333:root`
    grant the same callers in a policy whose ARNs all name `aws`.
    """
    texts: list[str] = []
    for policy in policies:
        for statement in policy.statements:
            for element in (statement.principal, statement.not_principal):
                if element is not None:
                    texts += element.aws
            texts += list(statement.resources or ()) + list(statement.not_resources or ())
            for condition in statement.conditions:
                texts += [value for value in condition.values if value.startswith("arn:")]
    found: dict[str, None] = {}
    for text in texts:
        match = _ARN_PARTITION.match(text)
        if match is None:
            continue
        partition = match.group(1)
        if not partition or any(char in partition for char in "*?$"):
            return ()
        found[partition] = None
    return tuple(found)
