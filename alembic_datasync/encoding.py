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
import itertools
import json
import math
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

#: The tag key of an encoded value.
TAG = "$"

#: Types whose values `encode` gives back as they are (and a float, when finite):
#: callers encoding many values can skip the call for these.
KEPT_TYPES = frozenset((str, int, bool, type(None)))


def encode(value: Any) -> Any:
    """``value`` as JSON-compatible data that `decode` turns back into it."""
    if type(value) in KEPT_TYPES:
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


def dumps(data: Any) -> str:
    """Compact, stable JSON text of already encoded ``data``."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def pack(data: Any) -> str:
    """Encoded ``data`` as compressed JSON in base64 (what the tool's tables store)."""
    return compress(dumps(data))


#: Items of a list turned into JSON text at a time by `pack_lists`.
_PACKED_AT_ONCE = 2_000


def pack_lists(lists: Iterable[Iterable[Any]]) -> str:
    """What `pack` makes of a list of lists of encoded items, made as the items come.

    The items (each a row change of the history) are turned into JSON and
    compressed a slice at a time, so that a sync of 100,000 rows never holds
    all its changes as objects, nor as text.  Keys keep their order: no
    digest is taken of these documents.
    """
    packer = zlib.compressobj(6)
    out: list[bytes] = []

    def add(text: str) -> None:
        out.append(packer.compress(text.encode()))

    add("[")
    for number, items in enumerate(lists):
        add("[" if number == 0 else ",[")
        iterator = iter(items)
        first = True
        while batch := list(itertools.islice(iterator, _PACKED_AT_ONCE)):
            text = json.dumps(batch, separators=(",", ":"), ensure_ascii=False)
            add(text[1:-1] if first else "," + text[1:-1])
            first = False
        add("]")
    add("]")
    out.append(packer.flush())
    return base64.b64encode(b"".join(out)).decode("ascii")


def compress(json_text: str) -> str:
    """JSON text `dumps` made, compressed as the tool's tables store it."""
    return base64.b64encode(zlib.compress(json_text.encode(), 6)).decode("ascii")


#: How `pack` stores a document: part of the state's digest of it, so that a
#: document another version stored differently is never taken as the same.
PACKING = "zlib+base64"


def unpack_text(stored: Any) -> str:
    """The JSON text `pack` or `compress` stored; `ValueError` for anything else."""
    try:
        return zlib.decompress(base64.b64decode(stored, validate=True)).decode()
    except (zlib.error, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"not a stored document: {error}") from None


def unpack(stored: Any) -> Any:
    """The encoded data `pack` stored (decode values with `decode`).

    Raises `ValueError` for anything `pack` did not make (a document another
    version stored).
    """
    try:
        return json.loads(zlib.decompress(base64.b64decode(stored, validate=True)).decode())
    except (zlib.error, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"not a stored document: {error}") from None
