"""JSON for the hot path: every item is decoded from the archive, encoded into a request and decoded
from the answer, so orjson (a Prefect dependency already) does it at a few times the speed of `json`.

Kubernetes' JSON allows integers of any size, which orjson refuses to encode and silently decodes as
floats. A document with a run of 19 digits (where 64-bit integers end) is therefore left to `json`,
as is anything orjson refuses; the scan costs well under a microsecond for an item.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

_LONG_DIGITS = re.compile(rb"\d{19}")


def loads(data: bytes | str) -> Any:
    """Decode JSON; ValueError with `json`'s message when it is not JSON."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_DIGITS.search(raw):
        return json.loads(raw)
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(raw)  # NaN, a BOM: `json`'s behaviour and wording, as before
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def dumps(obj: Any) -> bytes:
    """Compact JSON as bytes, ready for a request body."""
    try:
        return orjson.dumps(obj)
    except TypeError:  # an integer beyond 64 bits (or a type orjson does not know)
        return json.dumps(obj, separators=(",", ":")).encode()


def copy(obj: Any) -> Any:
    """A deep copy of JSON data, 2-3x faster than a recursive copy (6x `copy.deepcopy`). What orjson
    encodes holds no integer beyond 64 bits, so its own decoding is exact without the digit scan."""
    try:
        return orjson.loads(orjson.dumps(obj))
    except TypeError:
        return json.loads(json.dumps(obj))
