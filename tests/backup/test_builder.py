"""The backup builder writes what Velero writes (checked with tarfile and gzip, not our reader)."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from restoreflow.backup import BackupBuilder, BackupStorage

from .tarballs import item

T0 = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def archive_members(storage: BackupStorage, name: str) -> dict[str, bytes]:
    data = storage.fs.cat_file(storage.archive_path(name))
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isreg()}  # type: ignore[union-attr]


def test_classic_and_preferred_version_paths(storage: BackupStorage) -> None:
    b = BackupBuilder("b1", start=T0)
    b.add(item("Pod", "web", "shop"))
    b.add(item("Namespace", "shop"))
    b.add(item("Deployment", "web", "shop", "apps/v1"))
    b.add(item("Deployment", "web", "shop", "apps/v1beta2"), preferred=False)
    b.add(item("ClusterRole", "view", None, "rbac.authorization.k8s.io/v1"))
    b.write(storage)
    members = archive_members(storage, "b1")
    assert sorted(members) == [
        "metadata/version",
        "resources/clusterroles.rbac.authorization.k8s.io/cluster/view.json",
        "resources/clusterroles.rbac.authorization.k8s.io/v1-preferredversion/cluster/view.json",
        "resources/deployments.apps/namespaces/shop/web.json",
        "resources/deployments.apps/v1-preferredversion/namespaces/shop/web.json",
        "resources/deployments.apps/v1beta2/namespaces/shop/web.json",
        "resources/namespaces/cluster/shop.json",
        "resources/namespaces/v1-preferredversion/cluster/shop.json",
        "resources/pods/namespaces/shop/web.json",
        "resources/pods/v1-preferredversion/namespaces/shop/web.json",
    ]
    assert members["metadata/version"] == b"1.1.0\n"
    assert json.loads(members["resources/pods/namespaces/shop/web.json"]) == item("Pod", "web", "shop")


def test_format_1_0_has_only_classic_paths(storage: BackupStorage) -> None:
    b = BackupBuilder("b1", format_version="1.0.0")
    b.add(item("Pod", "web", "shop"))
    record = b.write(storage)
    assert sorted(archive_members(storage, "b1")) == [
        "metadata/version",
        "resources/pods/namespaces/shop/web.json",
    ]
    assert record.format_version == "1.0.0"


def test_explicit_version_dir(storage: BackupStorage) -> None:
    b = BackupBuilder("b1")
    b.add(item("Widget", "w", "a", "example.com/v2"), resource="widgets", version_dir="v2-preferredversion")
    b.add(item("Widget", "w", "a", "example.com/v1"), resource="widgets", version_dir="v1", preferred=False)
    b.write(storage)
    assert sorted(archive_members(storage, "b1")) == [
        "metadata/version",
        "resources/widgets.example.com/namespaces/a/w.json",
        "resources/widgets.example.com/v1/namespaces/a/w.json",
        "resources/widgets.example.com/v2-preferredversion/namespaces/a/w.json",
    ]


def test_custom_kinds_resolve_through_crds_in_the_backup() -> None:
    crd = item("CustomResourceDefinition", "gadgets.acme.io", None, "apiextensions.k8s.io/v1")
    crd["spec"] = {"group": "acme.io", "names": {"kind": "Gadget", "plural": "gadgets"}}
    b = BackupBuilder("b1")
    b.add(crd)
    assert b.add(item("Gadget", "g", "a", "acme.io/v1")) == "resources/gadgets.acme.io/namespaces/a/g.json"


def test_unknown_kind_needs_a_resource() -> None:
    with pytest.raises(ValueError, match=r"unknown kind 'Gizmo' in group 'acme.io': pass resource="):
        BackupBuilder("b1").add(item("Gizmo", "g", "a", "acme.io/v1"))


def test_object_without_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"needs apiVersion, kind and metadata\.name"):
        BackupBuilder("b1").add({"apiVersion": "v1", "kind": "Pod", "metadata": {}})


def test_raw_entries_for_broken_items(storage: BackupStorage) -> None:
    b = BackupBuilder("b1")
    b.add_file("resources/pods/namespaces/a/bad.json", "{nope")
    b.write(storage)
    assert archive_members(storage, "b1")["resources/pods/namespaces/a/bad.json"] == b"{nope"


def test_backup_document_is_velero_shaped(storage: BackupStorage) -> None:
    b = BackupBuilder("nightly-20261124010000", schedule="nightly", start=T0, included_namespaces=["shop"])
    b.add(item("Pod", "web", "shop"))
    b.write(storage)
    doc = json.loads(storage.fs.cat_file(storage.backup_path("nightly-20261124010000", "velero-backup.json")))
    assert doc["apiVersion"] == "velero.io/v1"
    assert doc["kind"] == "Backup"
    assert doc["metadata"]["namespace"] == "velero"
    assert doc["metadata"]["labels"] == {
        "velero.io/schedule-name": "nightly",
        "velero.io/storage-location": "default",
    }
    assert doc["spec"]["includedNamespaces"] == ["shop"]
    assert doc["spec"]["storageLocation"] == "default"
    assert doc["spec"]["ttl"] == "720h0m0s"
    assert doc["status"]["phase"] == "Completed"
    assert doc["status"]["formatVersion"] == "1.1.0"
    assert doc["status"]["startTimestamp"] == "2026-11-24T01:00:00Z"
    assert doc["status"]["completionTimestamp"] == "2026-11-24T01:00:42Z"
    assert doc["status"]["expiration"] == "2026-12-24T01:00:00Z"


def test_in_progress_backup_has_no_completion(storage: BackupStorage) -> None:
    record = BackupBuilder("b1", phase="InProgress").write(storage)
    assert record.phase == "InProgress"
    assert record.completion_timestamp is None


def test_side_files_are_gzip_json_with_null_for_empty(storage: BackupStorage) -> None:
    b = BackupBuilder("b1")
    b.add(item("Pod", "web", "shop"))
    b.write(storage)
    side = {
        p.rsplit("/", 1)[1]: gzip.decompress(storage.fs.cat_file(p))
        for p in storage.fs.find(storage.backup_path("b1"))
        if p.endswith(".gz") and not p.endswith(".tar.gz")
    }
    assert side.pop("b1-resource-list.json.gz") == b'{"v1/Pod":["shop/web"]}\n'
    assert side.pop("b1-results.gz") == b"{}\n"
    assert b"Backup completed" in side.pop("b1-logs.gz")
    assert side == {
        f"b1-{suffix}": b"null\n"
        for suffix in (
            "csi-volumesnapshotclasses.json.gz",
            "csi-volumesnapshotcontents.json.gz",
            "csi-volumesnapshots.json.gz",
            "itemoperations.json.gz",
            "podvolumebackups.json.gz",
            "volumeinfo.json.gz",
            "volumesnapshots.json.gz",
        )
    }


def test_write_to_a_url_creates_the_local_folder(tmp_path: Path) -> None:
    target = tmp_path / "fresh" / "bsl"
    record = BackupBuilder("b1").write(str(target))
    assert record.name == "b1"
    assert (target / "backups" / "b1" / "b1.tar.gz").is_file()


def test_rewriting_a_backup_replaces_it(storage: BackupStorage) -> None:
    first = BackupBuilder("b1")
    first.add(item("Pod", "old", "a"))
    first.write(storage)
    second = BackupBuilder("b1")
    second.add(item("Pod", "new", "a"))
    second.write(storage)
    with storage.open_archive("b1") as archive:
        assert archive.inventory == {"pods": {"a": ["new"]}}
