"""Kubernetes label selectors: the string syntax and metav1.LabelSelector dicts.

Both forms compile to the same `Selector` (a conjunction of requirements), with Kubernetes'
semantics: `!=` and `notin` also match objects without the key; `in`, `=` and `==` need it.
The engine uses `LabelSelector` dicts for the plan's labelSelector/orLabelSelectors; actions and
the sandbox's list and watch use the string syntax. Hand-written: no maintained Python library
parses Kubernetes selectors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from restoreflow.kube.names import label_value_errors, qualified_name_errors

_TOKEN_RE = re.compile(r"\s*(==|!=|=|\(|\)|,|!|>|<|[^\s=!(),<>]+)")
_SET_OPERATORS = {"in": "in", "notin": "notin"}
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
BOTH_SELECTORS = (
    "encountered labelSelector as well as orLabelSelectors in restore spec, only one can be specified"
)


class SelectorError(ValueError):
    """A selector that Kubernetes would reject; the message says why."""


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "in", "notin", "exists", "!", "gt", "lt" ("=" is "in" with one value)
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator == "in":
            return present and labels[self.key] in self.values
        if self.operator == "notin":
            return not present or labels[self.key] not in self.values
        if not present:
            return False
        try:
            value, bound = int(labels[self.key]), int(self.values[0])
        except ValueError:
            return False
        return value > bound if self.operator == "gt" else value < bound


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def empty(self) -> bool:
        return not self.requirements


EVERYTHING = Selector()


def _check_key(key: str) -> str:
    if errors := qualified_name_errors(key):
        raise SelectorError(f"invalid label key {key!r}: {'; '.join(errors)}")
    return key


def _check_value(value: str) -> str:
    if errors := label_value_errors(value):
        raise SelectorError(f"invalid label value {value!r}: {'; '.join(errors)}")
    return value


def _tokens(text: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if not match or match.end() == pos:
            break
        tokens.append(match.group(1))
        pos = match.end()
    if text[pos:].strip():
        raise SelectorError(f"unable to parse requirement: unexpected {text[pos:].strip()!r}")
    return tokens


def parse_selector(text: str | None) -> Selector:
    """Parse `a=b,c!=d,e in (x,y),f notin (z),g,!h,n>3` like Kubernetes' labels.Parse."""
    tokens = _tokens(text or "")
    requirements: list[Requirement] = []
    while tokens:
        requirements.append(_requirement(tokens, text or ""))
        if tokens:
            if tokens[0] != ",":
                raise SelectorError(f"found {tokens[0]!r}, expected: ',' in {text!r}")
            tokens.pop(0)
            if not tokens:
                raise SelectorError(f"found end of string, expected: identifier in {text!r}")
    return Selector(tuple(requirements))


def _requirement(tokens: list[str], text: str) -> Requirement:
    if tokens[0] == "!":
        tokens.pop(0)
        return Requirement(_check_key(_identifier(tokens, text)), "!")
    key = _check_key(_identifier(tokens, text))
    if not tokens or tokens[0] == ",":
        return Requirement(key, "exists")
    op = tokens.pop(0)
    if op in ("=", "==", "!="):
        value = tokens.pop(0) if tokens and tokens[0] not in (",", ")", "(") else ""
        return Requirement(key, "notin" if op == "!=" else "in", (_check_value(value),))
    if op in (">", "<"):
        value = _identifier(tokens, text)
        if not value.lstrip("-").isdigit():
            raise SelectorError(f"for 'Gt', 'Lt' operators, the value must be an integer: {value!r}")
        return Requirement(key, "gt" if op == ">" else "lt", (value,))
    if op in _SET_OPERATORS:
        return Requirement(key, _SET_OPERATORS[op], _value_set(tokens, text))
    raise SelectorError(f"found {op!r}, expected: in, notin, =, ==, !=, gt, lt in {text!r}")


def _identifier(tokens: list[str], text: str) -> str:
    if not tokens or tokens[0] in ("=", "==", "!=", "(", ")", ",", "!", ">", "<"):
        found = tokens[0] if tokens else "end of string"
        raise SelectorError(f"found {found!r}, expected: identifier in {text!r}")
    return tokens.pop(0)


def _value_set(tokens: list[str], text: str) -> tuple[str, ...]:
    if not tokens or tokens.pop(0) != "(":
        raise SelectorError(f"found end of string, expected: '(' in {text!r}")
    values: list[str] = []
    while tokens and tokens[0] != ")":
        token = tokens.pop(0)
        if token != ",":
            values.append(_check_value(token))
    if not tokens:
        raise SelectorError(f"found end of string, expected: ')' in {text!r}")
    tokens.pop(0)
    if not values:
        raise SelectorError(f"for 'in', 'notin' operators, values set can't be empty in {text!r}")
    return tuple(values)


def from_label_selector(selector: Mapping[str, Any] | None) -> Selector:
    """Compile a metav1.LabelSelector dict (matchLabels + matchExpressions); None selects everything."""
    if not selector:
        return EVERYTHING
    requirements = [
        Requirement(_check_key(str(k)), "in", (_check_value(str(v)),))
        for k, v in sorted((selector.get("matchLabels") or {}).items())
    ]
    for expression in selector.get("matchExpressions") or ():
        requirements.append(_expression(expression))
    return Selector(tuple(requirements))


def _expression(expression: Mapping[str, Any]) -> Requirement:
    key, operator = _check_key(str(expression.get("key", ""))), expression.get("operator")
    values = tuple(_check_value(str(v)) for v in expression.get("values") or ())
    if operator not in SELECTOR_OPERATORS:
        raise SelectorError(f"{operator!r} is not a valid label selector operator")
    if problem := _operator_problem(operator, values):
        raise SelectorError(f"{problem} (key {key!r})")
    if operator in ("In", "NotIn"):
        return Requirement(key, operator.lower(), values)
    return Requirement(key, "exists" if operator == "Exists" else "!")


def _operator_problem(operator: Any, values: Any) -> str | None:
    if operator in ("In", "NotIn") and not values:
        return "for 'in', 'notin' operators, values set can't be empty"
    if operator in ("Exists", "DoesNotExist") and values:
        return "values set must be empty for exists and does not exist"
    return None


def label_selector_problems(selector: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """What `metav1.LabelSelectorAsSelector` rejects beyond a schema: (relative path, message).

    Key and value syntax are a schema's job; this checks operators against their values.
    """
    if not isinstance(selector, dict):
        return
    expressions = selector.get("matchExpressions")
    for index, expression in enumerate(expressions if isinstance(expressions, list) else []):
        if not isinstance(expression, dict):
            continue
        where: tuple[str | int, ...] = ("matchExpressions", index, "values")
        if "values" not in expression:
            where = where[:-1]
        if problem := _operator_problem(expression.get("operator"), expression.get("values")):
            yield where, problem


def selectors_problems(
    label_selector: Mapping[str, Any] | None, or_label_selectors: Iterable[Mapping[str, Any]] | None
) -> Iterator[str]:
    """Velero's rule for a restore's selectors: one of labelSelector and orLabelSelectors, each valid."""
    if label_selector is not None and or_label_selectors is not None:
        yield BOTH_SELECTORS
    for selector in (label_selector, *(or_label_selectors or ())):
        try:
            from_label_selector(selector)
        except SelectorError as error:
            yield f"invalid label selector: {error}"


def matches_label_selector(selector: Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """Whether labels match a metav1.LabelSelector dict (None: everything, like Velero's restore)."""
    return from_label_selector(selector).matches(labels)


def matches_any(selectors: Iterable[Mapping[str, Any]], labels: Mapping[str, str] | None) -> bool:
    """The plan's orLabelSelectors: true if any selector matches."""
    return any(matches_label_selector(s, labels) for s in selectors)
