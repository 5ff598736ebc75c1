"""Label and field selectors as list and watch accept them (`a=b,c!=d,e in (f,g),!h`).

Label selectors are parsed by `restoreflow.kube.selectors`; field selectors only know `=`, `==`
and `!=` over the fields Kubernetes indexes for each resource.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from restoreflow.kube.selectors import SelectorError, parse_selector
from restoreflow.sandbox.status import bad_request

Matcher = Callable[[dict[str, Any]], bool]

_EQ_TERM = re.compile(r"^\s*([^\s!=,()]+)\s*(==|!=|=)\s*([^\s!=,()]*)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    terms, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == "," and depth == 0:
            terms.append(current)
            current = ""
        else:
            current += ch
    terms.append(current)
    return [t for t in terms if t.strip()]


def label_matcher(selector: str | None) -> Matcher:
    """Compile a label selector; an unparseable one is a 400 like the API server's."""
    try:
        compiled = parse_selector(selector)
    except SelectorError as error:
        raise bad_request(f"unable to parse requirement: {error}") from None
    if compiled.empty():
        return lambda _obj: True
    return lambda obj: compiled.matches((obj.get("metadata") or {}).get("labels"))


def _involved(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda o: str((o.get("involvedObject") or {}).get(field, ""))


FIELD_GETTERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "metadata.name": lambda o: o.get("metadata", {}).get("name", ""),
    "metadata.namespace": lambda o: o.get("metadata", {}).get("namespace", ""),
}
RESOURCE_FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], Any]]] = {
    "pods": {
        "spec.nodeName": lambda o: (o.get("spec") or {}).get("nodeName", ""),
        "spec.restartPolicy": lambda o: (o.get("spec") or {}).get("restartPolicy", ""),
        "spec.serviceAccountName": lambda o: (o.get("spec") or {}).get("serviceAccountName", ""),
        "status.phase": lambda o: (o.get("status") or {}).get("phase", ""),
        "status.podIP": lambda o: (o.get("status") or {}).get("podIP", ""),
    },
    "secrets": {"type": lambda o: o.get("type", "")},
    "namespaces": {"status.phase": lambda o: (o.get("status") or {}).get("phase", "")},
    "events": {
        f"involvedObject.{f}": _involved(f)
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    }
    | {"reason": lambda o: o.get("reason", ""), "type": lambda o: o.get("type", "")},
}


def field_matcher(selector: str | None, group_resource: str) -> Matcher:
    """Compile a field selector over the fields Kubernetes indexes for the resource."""
    if not selector or not selector.strip():
        return lambda _obj: True
    getters = FIELD_GETTERS | RESOURCE_FIELDS.get(group_resource, {})
    tests: list[Matcher] = []
    for term in _split_terms(selector):
        m = _EQ_TERM.match(term)
        if not m:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        key, op, value = m.groups()
        getter = getters.get(key)
        if getter is None:
            raise bad_request(f"field label not supported: {key}")
        if op == "!=":
            tests.append(lambda o, g=getter, v=value: str(g(o)) != v)
        else:
            tests.append(lambda o, g=getter, v=value: str(g(o)) == v)
    return lambda obj: all(t(obj) for t in tests)
