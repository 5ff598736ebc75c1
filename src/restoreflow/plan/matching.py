"""Velero's include/exclude lists and the globs they are written with.

Globs follow Velero's library (gobwas/glob): `*`, `?`, `[abc]`, `[!abc]`, `[a-z]`, `{a,b}` and
`\\` escapes. Without a separator `*` matches anything; with one (resource modifiers use `.`)
`*` and `?` stop at it. An invalid pattern matches nothing, as in Velero.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache


@lru_cache(maxsize=4096)
def compile_glob(pattern: str, separator: str = "") -> re.Pattern[str] | None:
    """The glob as an anchored regex, or None when the pattern is invalid."""
    any_char = f"[^{re.escape(separator)}]" if separator else "."
    out, i, depth = [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            if i + 1 == len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if c == "*":
            out.append(any_char + "*")
        elif c == "?":
            out.append(any_char)
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0 or end == i + 1 or (pattern[i + 1] == "!" and end == i + 2):
                return None
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + re.escape(body).replace("\\-", "-") + "]")
            i = end
        elif c == "{":
            depth += 1
            out.append("(?:")
        elif c == "}" and depth:
            depth -= 1
            out.append(")")
        elif c == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(c))
        i += 1
    if depth:
        return None
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def glob_match(pattern: str, text: str, separator: str = "") -> bool:
    compiled = compile_glob(pattern, separator)
    return bool(compiled and compiled.match(text))


@dataclass(frozen=True)
class IncludesExcludes:
    """Velero's IncludesExcludes: excludes win; empty includes or `*` include everything."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()

    @classmethod
    def of(cls, includes: Iterable[str] = (), excludes: Iterable[str] = ()) -> IncludesExcludes:
        return cls(tuple(includes), tuple(e for e in excludes if e != "*"))

    def should_include(self, name: str) -> bool:
        if any(glob_match(e, name) for e in self.excludes):
            return False
        return not self.includes or "*" in self.includes or any(glob_match(i, name) for i in self.includes)

    def include_everything(self) -> bool:
        return not self.excludes and (not self.includes or self.includes == ("*",))
