"""Kubernetes name rules, worded as the API server words them."""

from __future__ import annotations

import pytest

from restoreflow.kube.names import (
    config_key_errors,
    dns1035_label_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    invalid_value,
    label_value_errors,
    path_segment_name_errors,
    qualified_name_errors,
)

LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    "check",
    [dns1123_label_errors, dns1123_subdomain_errors, dns1035_label_errors, qualified_name_errors],
)
def test_ordinary_names_pass(check) -> None:
    assert check("shop-drill") == []


def test_a_namespace_name_gets_the_api_servers_message() -> None:
    assert dns1123_label_errors("Shop") == [LABEL_MESSAGE]
    assert dns1123_label_errors("a" * 64) == ["must be no more than 63 characters"]


def test_subdomains_allow_dots_labels_do_not() -> None:
    assert dns1123_subdomain_errors("shop.example.com") == []
    assert dns1123_label_errors("shop.example.com") == [LABEL_MESSAGE]
    assert dns1123_subdomain_errors("x" * 254)[0] == "must be no more than 253 characters"


def test_api_versions_are_dns1035_labels() -> None:
    assert dns1035_label_errors("v1beta1") == []
    assert dns1035_label_errors("1v")[0].startswith("a DNS-1035 label must consist of")


def test_qualified_names_check_prefix_and_name() -> None:
    assert qualified_name_errors("velero.io/backup-name") == []
    assert qualified_name_errors("Velero.IO/x") == [
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
        "'-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
        "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    ]
    assert qualified_name_errors("example.com/")[0] == "name part must be non-empty"
    assert qualified_name_errors("a/b/c")[0].startswith("a qualified name must consist of")


def test_label_values_may_be_empty() -> None:
    assert label_value_errors("") == []
    assert label_value_errors("-x")[0].startswith("a valid label must be an empty string")


def test_config_keys_and_path_segments() -> None:
    assert config_key_errors("tls.crt") == []
    assert config_key_errors("..data") == ["must not start with '..'"]
    assert path_segment_name_errors("a/b") == ["may not contain '/'"]


def test_invalid_value_wording() -> None:
    assert invalid_value("Shop", ["bad"]) == 'Invalid value: "Shop": bad'
