"""Coupon codes: normalised for lookup, generated crypto-random from an unambiguous alphabet."""

from __future__ import annotations

import re
import secrets

# No 0/O, 1/I/L: codes are read aloud, typed from receipts and printed on cards.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MIN_LENGTH, MAX_LENGTH = 6, 20
MAX_PREFIX = 12
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
_PREFIX = re.compile(r"^[A-Z0-9]{0,12}$")


def normalize_code(code: str) -> str:
    """Codes are matched case-insensitively, ignoring surrounding spaces."""
    return code.strip().upper()


def is_valid_code(code: str) -> bool:
    return bool(_CODE.match(code)) and not code.endswith("-")


def is_valid_prefix(prefix: str) -> bool:
    return bool(_PREFIX.match(prefix))


def random_code(length: int, prefix: str = "") -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(length))
    return f"{prefix}-{body}" if prefix else body


def unique_codes(count: int, length: int, prefix: str = "") -> list[str]:
    """``count`` distinct codes (collisions with stored codes are the caller's to replace)."""
    codes: set[str] = set()
    while len(codes) < count:
        codes.add(random_code(length, prefix))
    return sorted(codes)


def possible_codes(length: int) -> int:
    return int(len(ALPHABET) ** length)
