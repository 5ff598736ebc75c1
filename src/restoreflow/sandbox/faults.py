"""Fault injection: rules that make matching API requests fail, slow down or drop their connection.

String form (for `--fault`): comma-separated `key=value` pairs, e.g.
`verb=create,resource=pods,count=3,code=503` or `resource=deployments.apps,share=0.2,latency=0.5`.

Keys: `verb` (create/get/list/watch/update/patch/delete), `resource` ("pods", "deployments.apps"),
`namespace`, `name`, `subresource`: filters, empty matches all. `count=N`: the first N matching
requests; `share=P`: each matching request with probability P (seeded, so runs repeat); neither:
every matching request. `code`: 429 (with `Retry-After`, see `retry_after`), 500, 503 or 504;
`latency=SECONDS` delays the request (then answers it normally unless `code` or `drop` is given);
`drop=true` closes the connection without an answer. A fault is answered before the request is
applied: a faulted create stores nothing.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Any

CODES = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: (
        "Timeout",
        "the server was unable to return a response in the time allotted, "
        "but may still be processing the request",
    ),
}


@dataclass
class FaultRule:
    verb: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    count: int | None = None
    share: float | None = None
    code: int | None = None
    latency: float = 0.0
    drop: bool = False
    retry_after: int = 1

    def __post_init__(self) -> None:
        if self.code is not None and self.code not in CODES:
            raise ValueError(f"fault code must be one of {sorted(CODES)}, not {self.code}")
        if self.share is not None and not 0 <= self.share <= 1:
            raise ValueError(f"fault share must be between 0 and 1, not {self.share}")
        if self.code is None and not self.drop and not self.latency:
            raise ValueError("a fault needs code=, latency= or drop=true")

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """Read the `key=value,...` form; unknown keys and bad values raise ValueError."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, value = part.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or key not in fields:
                raise ValueError(f"invalid fault {text!r}: unknown setting {part!r}")
            values[key] = _convert(key, value.strip(), text)
        return cls(**values)

    @classmethod
    def coerce(cls, rule: FaultRule | str | dict[str, Any]) -> FaultRule:
        if isinstance(rule, FaultRule):
            return rule
        return cls.parse(rule) if isinstance(rule, str) else cls(**rule)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def matches(self, verb: str, resource: str, namespace: str, name: str, subresource: str) -> bool:
        wanted = (self.verb, self.resource, self.namespace, self.name, self.subresource)
        actual = (verb, resource, namespace, name, subresource)
        return all(not w or w == a for w, a in zip(wanted, actual, strict=True))


def _convert(key: str, value: str, text: str) -> Any:
    try:
        if key in ("count", "code", "retry_after"):
            return int(value)
        if key in ("share", "latency"):
            return float(value)
        if key == "drop":
            if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return value.lower() in ("true", "1", "yes")
    except ValueError:
        raise ValueError(f"invalid fault {text!r}: bad value for {key}: {value!r}") from None
    return value


class Faults:
    """Active rules with their remaining counts; the first rule that fires decides."""

    def __init__(self, seed: int = 0) -> None:
        self.rules: list[tuple[FaultRule, list[int]]] = []
        self.random = random.Random(seed)

    def add(self, rule: FaultRule) -> None:
        self.rules.append((rule, [rule.count if rule.count is not None else -1]))

    def clear(self) -> None:
        self.rules.clear()

    def pick(self, verb: str, resource: str, namespace: str, name: str, subresource: str) -> FaultRule | None:
        for rule, remaining in self.rules:
            if not rule.matches(verb, resource, namespace, name, subresource):
                continue
            if remaining[0] == 0:
                continue
            if rule.share is not None and self.random.random() >= rule.share:
                continue
            if remaining[0] > 0:
                remaining[0] -= 1
            return rule
        return None
