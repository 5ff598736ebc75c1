"""Label selectors in Kubernetes' string syntax and as metav1.LabelSelector dicts."""

from __future__ import annotations

import pytest

from restoreflow.kube.selectors import SelectorError, matches_any, matches_label_selector, parse_selector

LABELS = {"app": "web", "tier": "front", "replicas": "3"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("app", True),
        ("!app", False),
        ("!missing", True),
        ("app in (web, db)", True),
        ("app notin (web)", False),
        ("missing notin (x)", True),
        ("missing in (x)", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
        ("replicas>2", True),
        ("replicas<2", False),
        ("kube-aggregator.kubernetes.io/automanaged", False),
    ],
)
def test_string_selectors(text: str, matches: bool) -> None:
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["app=", "app in ()", "app in (a", "=x", "app=web,", "a b", "app=-bad-"])
def test_invalid_string_selectors_are_rejected(text: str) -> None:
    if text == "app=":  # an empty value is valid in Kubernetes
        assert parse_selector(text).matches({"app": ""})
        return
    with pytest.raises(SelectorError):
        parse_selector(text)


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        (None, True),
        ({}, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "db"}}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "back"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
    ],
)
def test_label_selector_dicts(selector: dict | None, matches: bool) -> None:
    assert matches_label_selector(selector, LABELS) is matches


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]},
            "'Equals' is not a valid",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]}, "values set can't be empty"),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "values set must be empty",
        ),
        ({"matchLabels": {"bad key!": "x"}}, "invalid label key"),
    ],
)
def test_invalid_label_selector_dicts(selector: dict, message: str) -> None:
    with pytest.raises(SelectorError, match=message):
        matches_label_selector(selector, LABELS)


def test_or_selectors() -> None:
    assert matches_any([{"matchLabels": {"app": "db"}}, {"matchLabels": {"tier": "front"}}], LABELS)
    assert not matches_any([{"matchLabels": {"app": "db"}}], LABELS)
