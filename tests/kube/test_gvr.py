"""Group, version and resource strings, as Kubernetes writes them."""

from __future__ import annotations

import pytest

from restoreflow.kube.gvr import (
    api_version,
    group_resource,
    parse_group_resource,
    sort_versions,
    split_api_version,
)


@pytest.mark.parametrize(
    ("text", "parts"),
    [("apps/v1", ("apps", "v1")), ("v1", ("", "v1")), ("velero.io/v2alpha1", ("velero.io", "v2alpha1"))],
)
def test_api_versions_split_and_join(text: str, parts: tuple[str, str]) -> None:
    assert split_api_version(text) == parts
    assert api_version(*parts) == text


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("pods", ("pods", "")),
        ("deployments.apps", ("deployments", "apps")),
        ("widgets.example.com", ("widgets", "example.com")),
    ],
)
def test_group_resources_split_at_the_first_dot(text: str, parts: tuple[str, str]) -> None:
    assert parse_group_resource(text) == parts
    assert group_resource(*parts) == text


def test_versions_sort_by_kubernetes_priority() -> None:
    versions = ["v1alpha1", "foo", "v2beta1", "v1", "v1beta2", "v10", "v1beta1", "bar", "v2"]
    assert sort_versions(versions) == [
        "v10",
        "v2",
        "v1",
        "v2beta1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
        "bar",
        "foo",
    ]
