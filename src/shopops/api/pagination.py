"""Opaque keyset cursors and the page envelope."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from shopops.kernel.errors import ValidationFailed

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` to get the next page; null on the last page."
    )


def encode_cursor(position: dict[str, Any]) -> str:
    raw = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed("pagination.invalid_cursor", "the cursor is not valid") from None
    if not isinstance(data, dict):
        raise ValidationFailed("pagination.invalid_cursor", "the cursor is not valid")
    return data


def after_id(cursor: str | None) -> int | None:
    """The common case: cursors that carry the last seen id."""
    data = decode_cursor(cursor)
    if data is None:
        return None
    value = data.get("id")
    if not isinstance(value, int):
        raise ValidationFailed("pagination.invalid_cursor", "the cursor is not valid")
    return value


def next_cursor_by_id(rows: list[Any], limit: int) -> str | None:
    """Given ``limit + 1`` fetched rows, the cursor for the next page (or None)."""
    if len(rows) <= limit:
        return None
    return encode_cursor({"id": rows[limit - 1].id})
