"""Go duration syntax ("4h", "1m30s", "250ms"), as Velero and Kubernetes write durations."""

from __future__ import annotations

import re

_UNITS_NS = {
    "ns": 1,
    "us": 1_000,
    "\u00b5s": 1_000,  # micro sign
    "\u03bcs": 1_000,  # Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_NS = 2**63 - 1
_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")
_UNIT = re.compile(r"[^\d.]*")


def parse_duration_ns(text: str) -> int:
    """Parse like Go's `time.ParseDuration`, to integer nanoseconds, with Go's messages."""
    invalid = ValueError(f"time: invalid duration {_quote(text)}")
    rest, sign = text, 1
    if rest[:1] in ("-", "+"):
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        number = _NUMBER.match(rest)
        assert number is not None  # the pattern matches the empty string
        whole, fraction = number.group(1), number.group(2)
        if not whole and not fraction:
            raise invalid
        rest = rest[number.end() :]
        unit = _UNIT.match(rest).group(0)  # type: ignore[union-attr]
        if not unit:
            raise ValueError(f"time: missing unit in duration {_quote(text)}")
        if unit not in _UNITS_NS:
            raise ValueError(f"time: unknown unit {_quote(unit)} in duration {_quote(text)}")
        rest = rest[len(unit) :]
        scale = _UNITS_NS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        if total > _MAX_NS:
            raise invalid
    return sign * total


def parse_duration(text: str) -> float:
    """Seconds in a Go duration string; ValueError (Go's message) when it does not parse."""
    if not isinstance(text, str):
        raise ValueError(f'time: invalid duration {text!r}: a duration is a string such as "30s"')
    return parse_duration_ns(text) / 1e9


def format_duration(seconds: float) -> str:
    """Go's `Duration.String()`: 4h0m0s, 1m30s, 250ms, 0s."""
    ns = round(seconds * 1e9)
    if ns == 0:
        return "0s"
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    if ns < 1_000:
        return f"{sign}{ns}ns"
    if ns < 1_000_000:
        return f"{sign}{_decimal(ns, 3)}\u00b5s"
    if ns < 1_000_000_000:
        return f"{sign}{_decimal(ns, 6)}ms"
    secs, rest_ns = divmod(ns, 1_000_000_000)
    text = f"{_decimal(secs % 60 * 1_000_000_000 + rest_ns, 9)}s"
    minutes, hours = secs // 60 % 60, secs // 3600
    if secs >= 60:
        text = f"{minutes}m{text}"
    if hours:
        text = f"{hours}h{text}"
    return sign + text


def _decimal(value: int, digits: int) -> str:
    whole, fraction = divmod(value, 10**digits)
    fraction_text = f"{fraction:0{digits}d}".rstrip("0")
    return f"{whole}.{fraction_text}" if fraction_text else str(whole)


def _quote(text: str) -> str:
    """Go's strconv.Quote for the simple strings durations are."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
