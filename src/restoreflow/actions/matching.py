"""Which items an action (or a filter) applies to: globs, include/exclude lists, applies-to.

Globs follow Velero's library (gobwas/glob): `*`, `?`, `[abc]`, `[!abc]`, `[a-z]`, `{a,b}` and
`\\` escapes. Without a separator `*` matches anything; with one (resource modifiers use `.`)
`*` and `?` stop at it. An invalid pattern matches nothing, as in Velero.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from restoreflow.actions.base import AppliesTo
from restoreflow.kube.selectors import EVERYTHING, Selector, parse_selector


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


def identity(resource: str) -> str:
    return resource


@dataclass(frozen=True)
class ResolvedAppliesTo:
    """An action's AppliesTo with resources resolved to `resource.group` and the selector parsed."""

    resources: IncludesExcludes
    namespaces: IncludesExcludes
    selector: Selector = EVERYTHING

    @classmethod
    def resolve(cls, applies_to: AppliesTo, canonical: Callable[[str], str] = identity) -> ResolvedAppliesTo:
        """`canonical` maps a user's name ("po", "deployments") to its group-resource through discovery;
        names it cannot resolve should be returned verbatim. Raises SelectorError on a bad selector."""

        def names(items: Iterable[str]) -> tuple[str, ...]:
            return tuple(i if i == "*" else canonical(i) for i in items)

        return cls(
            IncludesExcludes.of(names(applies_to.included_resources), names(applies_to.excluded_resources)),
            IncludesExcludes.of(applies_to.included_namespaces, applies_to.excluded_namespaces),
            parse_selector(applies_to.label_selector) if applies_to.label_selector else EVERYTHING,
        )

    def should_use(self, group_resource: str, namespace: str, labels: Mapping[str, str] | None) -> bool:
        """Velero's ShouldUse: `namespace` is the item's TARGET namespace ("" if cluster-scoped);
        an action restricted to namespaces never sees cluster-scoped items; labels are the current ones."""
        if not self.resources.should_include(group_resource):
            return False
        if namespace and not self.namespaces.should_include(namespace):
            return False
        if not namespace and not self.namespaces.include_everything():
            return False
        return self.selector.matches(labels)


def action_applies(
    applies_to: AppliesTo,
    group_resource: str,
    namespace: str,
    labels: Mapping[str, str] | None,
    canonical: Callable[[str], str] = identity,
) -> bool:
    """One-shot form of `ResolvedAppliesTo.resolve(...).should_use(...)`."""
    return ResolvedAppliesTo.resolve(applies_to, canonical).should_use(group_resource, namespace, labels)
