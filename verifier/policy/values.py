"""Typed readings of condition values: numbers, dates, booleans and CIDRs.

Shared by validation, the concrete evaluator and the encoder, so that the three
read a policy value the same way.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from fractions import Fraction

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


# Maximum length of number text that is read. Python converts longer decimal
# text to an integer in quadratic time, and refuses to print it back.
MAX_NUMBER_CHARS = 4300


def parse_number(text: str) -> Fraction | None:
    """Read a decimal number exactly; None when `text` is not one, or is
    longer than MAX_NUMBER_CHARS characters."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS or not _NUMBER.match(text):
        return None
    try:
        return Fraction(Decimal(text))
    except (InvalidOperation, ValueError):
        return None


def parse_date(text: str) -> Fraction | None:
    """Read a date as exact seconds since the Unix epoch.

    IAM accepts ISO 8601 dates and epoch seconds in date conditions
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_Date).
    A date-time without a UTC offset is read as UTC: the docs do not say.
    """
    text = text.strip()
    number = parse_number(text)
    if number is not None:
        return number
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return Fraction(delta.days * 86400 + delta.seconds) + Fraction(delta.microseconds, 10**6)


def format_date(seconds: Fraction) -> str:
    """Render epoch seconds as an ISO 8601 UTC date-time."""
    whole = seconds.numerator // seconds.denominator
    moment = datetime.fromtimestamp(whole, tz=timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = seconds - whole
    if fraction:
        micro = int(fraction * 10**6)
        text += f".{micro:06d}"
    return text + "Z"


def parse_bool(text: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    return None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(text: str) -> Network | None:
    """Read a CIDR block or a single address (a /32 or /128 network).

    Host bits are ignored, as in `10.0.0.1/8`.
    """
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def parse_address(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def format_number(value: Fraction) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return str(Decimal(value.numerator) / Decimal(value.denominator))
