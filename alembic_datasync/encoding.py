"""How values are kept in the tool's own tables: JSON that gives every value back with its type.

The state remembers row keys and the history old and new values, as the
database returned them or the file wrote them: text and numbers, but also
decimals, dates, UUIDs, bytes, JSON documents.  Plain JSON would turn
``Decimal('0.20')`` into a float and a UUID into text, so a value JSON does
not hold exactly is written as a small tagged object, ``{"$": "decimal",
"v": "0.20"}``, and read back as what it was.  A mapping (a JSON column's
value) is tagged too, so no user value can pass for a tag.

Large documents are kept compressed (`pack` / `unpack`), as base64 text:
every driver binds text alike, where some mishandle bytes (aiomysql).
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
import uuid
import zlib
from typing import Any

#: The tag key of an encoded value.
TAG = "$"


def encode(value: Any) -> Any:
    """``value`` as JSON-compatible data that `decode` turns back into it."""
    kind = type(value)
    if kind is str or kind is int:
        return value
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
    if isinstance(value, decimal.Decimal):
        return {TAG: "decimal", "v": str(value)}
    if isinstance(value, dt.datetime):
        return {TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, dt.date):
        return {TAG: "date", "v": value.isoformat()}
    if isinstance(value, dt.time):
        return {TAG: "time", "v": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {TAG: "timedelta", "v": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, uuid.UUID):
        return {TAG: "uuid", "v": str(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {TAG: "bytes", "v": bytes(value).hex()}
    if isinstance(value, list | tuple):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        return {TAG: "map", "v": {str(k): encode(v) for k, v in value.items()}}
    # Anything else (a driver's own type, a range): its text, marked as such.
    return {TAG: "text", "v": str(value)}


_DECODERS: dict[str, Any] = {
    "float": float,
    "decimal": decimal.Decimal,
    "datetime": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
    "timedelta": lambda parts: dt.timedelta(*parts),
    "uuid": uuid.UUID,
    "bytes": bytes.fromhex,
    "text": str,
}


def decode(data: Any) -> Any:
    """The value `encode` made ``data`` of."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if isinstance(data, dict):
        tag = data.get(TAG)
        if tag == "map":
            return {k: decode(v) for k, v in data["v"].items()}
        decoder = _DECODERS.get(tag) if isinstance(tag, str) else None
        if decoder is None:
            raise ValueError(f"unknown tag {tag!r} in a stored value")
        return decoder(data["v"])
    return data


def dumps(data: Any, *, stable: bool = True) -> str:
    """Compact JSON text of encoded ``data``; ``stable``: keys sorted, the same each time."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=stable)


def pack(data: Any, *, stable: bool = True) -> str:
    """Encoded ``data`` as compressed JSON in base64 (what the tool's tables store).

    ``stable=False`` leaves the keys in their order, for a document no digest
    is taken of (the history's changes): sorting 100,000 rows' keys costs more
    than the compression.
    """
    return compress(dumps(data, stable=stable))


def compress(json_text: str) -> str:
    """JSON text `dumps` made, compressed as the tool's tables store it."""
    return base64.b64encode(zlib.compress(json_text.encode(), 6)).decode("ascii")


#: How `pack` stores a document: part of the state's digest of it, so that a
#: document another version stored differently is never taken as the same.
PACKING = "zlib+base64"


def unpack(stored: Any) -> Any:
    """The encoded data `pack` stored (decode values with `decode`).

    Raises `ValueError` for anything `pack` did not make (a document another
    version stored).
    """
    try:
        return json.loads(zlib.decompress(base64.b64decode(stored, validate=True)).decode())
    except (zlib.error, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"not a stored document: {error}") from None
