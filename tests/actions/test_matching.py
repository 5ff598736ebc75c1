"""Globs, include/exclude lists and Velero's applies-to rules."""

from __future__ import annotations

import pytest

from restoreflow.actions.base import AppliesTo
from restoreflow.plan.matching import IncludesExcludes, glob_match
from restoreflow.restore.matching import ResolvedAppliesTo


@pytest.mark.parametrize(
    ("pattern", "text", "separator", "matches"),
    [
        ("*", "deployments.apps", "", True),
        ("*", "deployments.apps", ".", False),
        ("*.apps", "deployments.apps", ".", True),
        ("deploy*", "deployments.apps", ".", False),
        ("deploy*", "deployments.apps", "", True),
        ("ns-?", "ns-1", "", True),
        ("ns-[12]", "ns-3", "", False),
        ("ns-[!12]", "ns-3", "", True),
        ("ns-[a-c]", "ns-b", "", True),
        ("{shop,blog}-*", "blog-prod", "", True),
        ("a\\*", "a*", "", True),
        ("ns-[", "ns-[", "", False),  # invalid: matches nothing
    ],
)
def test_globs(pattern: str, text: str, separator: str, matches: bool) -> None:
    assert glob_match(pattern, text, separator) is matches


@pytest.mark.parametrize(
    ("includes", "excludes", "name", "included"),
    [
        ((), (), "x", True),
        (("*",), (), "x", True),
        (("a*",), (), "abc", True),
        (("a*",), (), "xyz", False),
        (("*",), ("x*",), "xyz", False),
        ((), ("*",), "x", True),  # '*' in excludes is dropped, as in Velero
    ],
)
def test_includes_excludes(includes: tuple, excludes: tuple, name: str, included: bool) -> None:
    assert IncludesExcludes.of(includes, excludes).should_include(name) is included


def test_applies_to_resources_are_resolved_through_the_given_names() -> None:
    short = {"po": "pods", "deploy": "deployments.apps"}
    resolved = ResolvedAppliesTo.resolve(
        AppliesTo(included_resources=("po", "deploy")), lambda r: short.get(r, r)
    )
    assert resolved.should_use("pods", "shop", {})
    assert resolved.should_use("deployments.apps", "shop", {})
    assert not resolved.should_use("services", "shop", {})


def test_namespace_restricted_actions_never_see_cluster_scoped_items() -> None:
    resolved = ResolvedAppliesTo.resolve(AppliesTo(included_namespaces=("shop",)))
    assert resolved.should_use("pods", "shop", None)
    assert not resolved.should_use("pods", "blog", None)
    assert not resolved.should_use("persistentvolumes", "", None)
    assert ResolvedAppliesTo.resolve(AppliesTo()).should_use("persistentvolumes", "", None)


def test_label_selector_matches_current_labels() -> None:
    resolved = ResolvedAppliesTo.resolve(AppliesTo(label_selector="app in (web)"))
    assert resolved.should_use("pods", "shop", {"app": "web"})
    assert not resolved.should_use("pods", "shop", {"app": "db"})
    assert not resolved.should_use("pods", "shop", None)
