"""CustomResourceDefinitions a restore meets: Velero's (velero.io) and CSI snapshots
(snapshot.storage.k8s.io). Schemas keep every field (x-kubernetes-preserve-unknown-fields)."""

from __future__ import annotations

from typing import Any

_OPEN_SCHEMA = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}


def crd(
    group: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    versions: tuple[str, ...] = ("v1",),
    short_names: tuple[str, ...] = (),
    status: bool = False,
    categories: tuple[str, ...] = (),
) -> dict[str, Any]:
    """A CRD object serving `kind` in `group` (first version is the storage version)."""
    names: dict[str, Any] = {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
    }
    if short_names:
        names["shortNames"] = list(short_names)
    if categories:
        names["categories"] = list(categories)
    subresources = {"subresources": {"status": {}}} if status else {}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": names,
            "scope": "Namespaced" if namespaced else "Cluster",
            "versions": [
                {"name": v, "served": True, "storage": i == 0, "schema": _OPEN_SCHEMA, **subresources}
                for i, v in enumerate(versions)
            ],
        },
    }


def velero_crds() -> list[dict[str, Any]]:
    """Velero's CRDs (velero.io/v1 and v2alpha1)."""
    v1 = [
        ("Backup", "backups", ()),
        ("BackupRepository", "backuprepositories", ()),
        ("BackupStorageLocation", "backupstoragelocations", ("bsl",)),
        ("DeleteBackupRequest", "deletebackuprequests", ()),
        ("DownloadRequest", "downloadrequests", ()),
        ("PodVolumeBackup", "podvolumebackups", ()),
        ("PodVolumeRestore", "podvolumerestores", ()),
        ("Restore", "restores", ()),
        ("Schedule", "schedules", ()),
        ("ServerStatusRequest", "serverstatusrequests", ("ssr",)),
        ("VolumeSnapshotLocation", "volumesnapshotlocations", ("vsl",)),
    ]
    made = [
        crd("velero.io", kind, plural, short_names=short, categories=("velero",))
        for kind, plural, short in v1
    ]
    for kind, plural in (("DataDownload", "datadownloads"), ("DataUpload", "datauploads")):
        made.append(crd("velero.io", kind, plural, versions=("v2alpha1",), categories=("velero",)))
    return made


def snapshot_crds() -> list[dict[str, Any]]:
    """The CSI external-snapshotter CRDs (snapshot.storage.k8s.io/v1)."""
    group = "snapshot.storage.k8s.io"
    return [
        crd(group, "VolumeSnapshot", "volumesnapshots", short_names=("vs",), status=True),
        crd(
            group,
            "VolumeSnapshotContent",
            "volumesnapshotcontents",
            namespaced=False,
            short_names=("vsc", "vscs"),
            status=True,
        ),
        crd(
            group,
            "VolumeSnapshotClass",
            "volumesnapshotclasses",
            namespaced=False,
            short_names=("vsclass", "vsclasses"),
        ),
    ]
