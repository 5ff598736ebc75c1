"""The sample application looks like a real cluster's objects and round-trips through a BSL."""

from __future__ import annotations

import json
from collections import Counter

from restoreflow.backup import BackupStorage, sample_application, sample_backup
from restoreflow.backup.sample import HOOK_COMMAND


def test_sample_holds_every_kind_the_demo_needs() -> None:
    app = sample_application()
    kinds = Counter(o["kind"] for o in app.objects)
    assert kinds == {
        "Namespace": 1,
        "ServiceAccount": 1,
        "Role": 1,
        "RoleBinding": 1,
        "ConfigMap": 1,
        "Secret": 1,
        "Deployment": 1,
        "StatefulSet": 1,
        "Service": 3,
        "PersistentVolumeClaim": 1,
        "PersistentVolume": 1,
        "CustomResourceDefinition": 1,
        "Widget": 2,
        "Job": 1,
        "Pod": 2,
    }
    assert app.find("StatefulSet", "db")["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_objects_carry_what_a_cluster_adds() -> None:
    versions = set()
    for obj in sample_application().objects:
        meta = obj["metadata"]
        assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
        assert meta["managedFields"][0]["manager"]
        versions.add(meta["resourceVersion"])
    assert len(versions) == len(sample_application().objects)


def test_namespaced_objects_live_in_the_chosen_namespace() -> None:
    app = sample_application("store")
    namespaced = [
        o
        for o in app.objects
        if o["kind"] not in ("Namespace", "PersistentVolume", "CustomResourceDefinition")
    ]
    assert {o["metadata"]["namespace"] for o in namespaced} == {"store"}
    assert app.find("PersistentVolume", app.find("PersistentVolumeClaim", "data-db-0")["spec"]["volumeName"])
    assert app.pod_volume_backups[0]["spec"]["pod"]["namespace"] == "store"


def test_node_port_services_with_and_without_explicit_ports() -> None:
    app = sample_application()
    for name, explicit in (("web", True), ("web-admin", False)):
        service = app.find("Service", name)
        assert service["spec"]["type"] == "NodePort"
        assert service["spec"]["ports"][0]["nodePort"]
        applied = json.loads(
            service["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        )
        assert ("nodePort" in applied["spec"]["ports"][0]) is explicit


def test_pod_restore_hooks_use_commands_the_sandbox_runs() -> None:
    pod = sample_application().find("Pod", "toolbox")
    annotations = pod["metadata"]["annotations"]
    assert (
        json.loads(annotations["post.hook.restore.velero.io/command"]) == HOOK_COMMAND == ["echo", "restored"]
    )
    assert annotations["post.hook.restore.velero.io/container"] == pod["spec"]["containers"][0]["name"]
    assert annotations["backup.velero.io/backup-volumes"] == "cache"


def test_pod_volume_backup_matches_its_pod() -> None:
    app = sample_application()
    pod = app.find("Pod", "toolbox")
    (pvb,) = app.pod_volume_backups
    assert pvb["spec"]["pod"]["uid"] == pod["metadata"]["uid"]
    assert pvb["metadata"]["labels"]["velero.io/pod-uid"] == pod["metadata"]["uid"]
    assert pvb["spec"]["volume"] in {v["name"] for v in pod["spec"]["volumes"]}
    assert pvb["status"]["phase"] == "Completed"


def test_sample_backup_round_trip(storage: BackupStorage) -> None:
    record = sample_backup(storage, "demo-backup", schedule="nightly")
    assert record.phase == "Completed"
    assert record.schedule_name == "nightly"
    assert record.included_namespaces == ("shop",)
    assert storage.latest_backup_of_schedule("nightly").name == "demo-backup"
    assert len(storage.pod_volume_backups(record)) == 1
    assert storage.volume_info(record)[0]["pvcName"] == "data-db-0"
    with storage.open_archive(record) as archive:
        assert archive.item_count == len(sample_application().objects)
        assert archive.inventory["widgets.example.com"] == {"shop": ["blue", "green"]}
        assert archive.inventory["customresourcedefinitions.apiextensions.k8s.io"] == {
            "": ["widgets.example.com"]
        }
        secret = archive.read_item("secrets", "shop", "web-credentials")
        assert secret == sample_application().find("Secret", "web-credentials")
