"""`glob.matches` against a reference matcher written out in the test."""

import random

import pytest

from verifier.encode import glob
from verifier.encode.glob import COLON, NOTHING, Lit, Many, One


def reference_match(elements, text: str) -> bool:
    """Match by plain recursion over the elements, trying every split."""
    if not elements:
        return text == ""
    first, rest = elements[0], elements[1:]
    if isinstance(first, Lit):
        return text.startswith(first.text) and reference_match(rest, text[len(first.text) :])
    if isinstance(first, One):
        return bool(text) and text[0] not in first.excluded and reference_match(rest, text[1:])
    for length in range(len(text) + 1):
        if any(c in first.excluded for c in text[:length]):
            break
        if reference_match(rest, text[length:]):
            return True
    return False


def random_pattern(rng: random.Random):
    choices = [Lit("a"), Lit("b:"), Lit("."), One(NOTHING), One(COLON), Many(NOTHING), Many(COLON)]
    return tuple(rng.choice(choices) for _ in range(rng.randint(0, 5)))


def test_matches_agrees_with_reference():
    rng = random.Random(7)
    for _ in range(3000):
        pattern = random_pattern(rng)
        text = "".join(rng.choice("ab:.\n") for _ in range(rng.randint(0, 7)))

        assert glob.matches(pattern, text) == reference_match(pattern, text), (pattern, text)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ((Lit("s3:get"), Many(NOTHING)), "s3:getobject", True),
        ((Lit("s3:get"), Many(NOTHING)), "s3:put", False),
        ((Lit("a"), Many(COLON), Lit("b")), "a:b", False),
        ((Lit("a"), One(NOTHING), Lit("b")), "a\nb", True),
        ((Lit("a.b"),), "axb", False),
    ],
)
def test_matches_cases(pattern, text, expected):
    assert glob.matches(pattern, text) is expected
