"""The archive reader: inventory, versions, items, and every kind of bad input."""

from __future__ import annotations

import gzip
import tarfile
import tempfile
from pathlib import Path

import pytest

from restoreflow.backup import (
    BackupBuilder,
    BackupError,
    BackupStorage,
    ItemError,
    ResourceVersions,
)
from restoreflow.kube.gvr import version_priority

from .tarballs import Entry, entry, item, json_entry, put_backup, tar_gz

CAP = 4096


def open_bytes(storage: BackupStorage, archive: bytes, workdir: Path, cap: int = CAP):
    put_backup(storage, "b1", archive)
    return storage.open_archive("b1", workdir=workdir, max_item_bytes=cap)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def test_inventory_comes_from_the_classic_paths(storage: BackupStorage, workdir: Path) -> None:
    b = BackupBuilder("b1")
    b.add(item("Namespace", "shop"))
    for name in ("web-2", "web-1"):
        b.add(item("Pod", name, "shop"))
    b.add(item("Pod", "api", "tools"))
    b.add(item("Deployment", "web", "shop", "apps/v1"))
    b.add(item("Deployment", "web", "shop", "apps/v1beta1"), preferred=False)
    b.add(item("Deployment", "legacy", "shop", "apps/v1beta2"), preferred=False)
    b.write(storage)
    with storage.open_archive("b1", workdir=workdir) as archive:
        assert archive.inventory == {
            "deployments.apps": {"shop": ["web"]},
            "namespaces": {"": ["shop"]},
            "pods": {"shop": ["web-1", "web-2"], "tools": ["api"]},
        }
        assert archive.format_version == "1.1.0"
        assert archive.warnings == []
        assert archive.item_count == 5
        assert archive.has_item("pods", "shop", "web-1")
        assert not archive.has_item("pods", "tools", "web-1")
        assert not archive.has_item("deployments.apps", "shop", "legacy")


def test_group_versions_from_the_version_folders(storage: BackupStorage, workdir: Path) -> None:
    b = BackupBuilder("b1")
    b.add(item("HorizontalPodAutoscaler", "php", "web", "autoscaling/v2"))
    for version in ("v2beta1", "v1", "v2beta2"):
        b.add(item("HorizontalPodAutoscaler", "php", "web", f"autoscaling/{version}"), preferred=False)
    b.add(item("ConfigMap", "c", "web"))
    b.write(storage)
    with storage.open_archive("b1", workdir=workdir) as archive:
        assert archive.group_versions() == {
            "configmaps": ResourceVersions(preferred="v1", versions=("v1",)),
            "horizontalpodautoscalers.autoscaling": ResourceVersions(
                preferred="v2", versions=("v2", "v1", "v2beta2", "v2beta1")
            ),
        }
        assert archive.version_dirs("horizontalpodautoscalers.autoscaling") == [
            "v1",
            "v2-preferredversion",
            "v2beta1",
            "v2beta2",
        ]
        old = archive.read_item("horizontalpodautoscalers.autoscaling", "web", "php", "v2beta1")
        assert old["apiVersion"] == "autoscaling/v2beta1"
        preferred = archive.read_item(
            "horizontalpodautoscalers.autoscaling", "web", "php", "v2-preferredversion"
        )
        assert preferred["apiVersion"] == "autoscaling/v2"


def test_classic_only_archive_has_no_group_versions(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(json_entry("resources/pods/namespaces/a/p.json", item("Pod", "p", "a")))
    with open_bytes(storage, data, workdir) as archive:
        assert archive.inventory == {"pods": {"a": ["p"]}}
        assert archive.group_versions() == {}
        assert archive.format_version == ""


def test_read_item_returns_the_stored_object(storage: BackupStorage, workdir: Path) -> None:
    pod = item("Pod", "web", "shop") | {"spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    b = BackupBuilder("b1")
    b.add(pod)
    b.add(item("ClusterRole", "reader", None, "rbac.authorization.k8s.io/v1"))
    b.write(storage)
    with storage.open_archive("b1", workdir=workdir) as archive:
        assert archive.read_item("pods", "shop", "web") == pod
        assert (
            archive.read_item("clusterroles.rbac.authorization.k8s.io", "", "reader")["kind"] == "ClusterRole"
        )
        assert archive.item_path("pods", "shop", "web") == "resources/pods/namespaces/shop/web.json"
        assert archive.item_path("clusterroles", "", "r") == "resources/clusterroles/cluster/r.json"


def test_missing_item_is_an_item_error(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(json_entry("resources/pods/namespaces/a/p.json", item("Pod", "p", "a")))
    with open_bytes(storage, data, workdir) as archive, pytest.raises(ItemError) as caught:
        archive.read_item("pods", "a", "nope")
    assert str(caught.value) == 'error decoding "resources/pods/namespaces/a/nope.json": does not exist'
    assert caught.value.path == "resources/pods/namespaces/a/nope.json"


def test_invalid_json_fails_only_that_item(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(
        entry("resources/pods/namespaces/a/broken.json", "{not json"),
        entry("resources/pods/namespaces/a/list.json", "[1, 2]"),
        entry("resources/pods/namespaces/a/latin1.json", b'{"a": "\xff"}'),
        json_entry("resources/pods/namespaces/a/good.json", item("Pod", "good", "a")),
    )
    with open_bytes(storage, data, workdir) as archive:
        assert archive.inventory == {"pods": {"a": ["broken", "good", "latin1", "list"]}}
        assert archive.read_item("pods", "a", "good")["metadata"]["name"] == "good"
        with pytest.raises(ItemError) as caught:
            archive.read_item("pods", "a", "broken")
        assert str(caught.value) == (
            'error decoding "resources/pods/namespaces/a/broken.json": '
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        )
        with pytest.raises(
            ItemError, match=r'"resources/pods/namespaces/a/list.json": expected a JSON object'
        ):
            archive.read_item("pods", "a", "list")
        with pytest.raises(ItemError, match=r"latin1.json.*can't decode byte 0xff"):
            archive.read_item("pods", "a", "latin1")


def test_item_over_the_size_cap_fails_only_that_item(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(
        entry("resources/configmaps/namespaces/a/huge.json", "{" + " " * CAP + "}"),
        json_entry("resources/configmaps/namespaces/a/small.json", item("ConfigMap", "small", "a")),
    )
    with open_bytes(storage, data, workdir) as archive:
        assert archive.inventory == {"configmaps": {"a": ["huge", "small"]}}
        assert archive.has_item("configmaps", "a", "huge")
        assert archive.read_item("configmaps", "a", "small")["metadata"]["name"] == "small"
        with pytest.raises(ItemError) as caught:
            archive.read_item("configmaps", "a", "huge")
    assert str(caught.value) == (
        'error decoding "resources/configmaps/namespaces/a/huge.json": '
        f"item is {CAP + 2} bytes, over the {CAP}-byte limit for one item"
    )


def test_missing_resources_dir_gives_velero_warning(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(entry("metadata/version", "1.1.0\n"))
    with open_bytes(storage, data, workdir) as archive:
        assert archive.warnings == ['zero items to be restored: directory "resources": does not exist']
        assert "does not exist" in archive.warnings[0]
        assert archive.inventory == {}
        assert archive.format_version == "1.1.0"


def test_empty_tarball_gives_the_warning_too(storage: BackupStorage, workdir: Path) -> None:
    with open_bytes(storage, tar_gz(), workdir) as archive:
        assert archive.warnings == ['zero items to be restored: directory "resources": does not exist']


def test_empty_resources_dir_is_no_warning(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(entry("resources/", kind=tarfile.DIRTYPE))
    with open_bytes(storage, data, workdir) as archive:
        assert archive.warnings == []
        assert archive.inventory == {}


def test_unexpected_files_are_ignored_and_noted(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(
        entry("resources/stray.json", "{}"),
        entry("resources/pods/namespaces/loose.json", "{}"),
        entry("resources/pods/namespaces/a/sub/deep.json", "{}"),
        entry("other/readme.txt", "hello"),
        json_entry("./resources/pods/namespaces/a/p.json", item("Pod", "p", "a")),
    )
    with open_bytes(storage, data, workdir) as archive:
        assert archive.inventory == {"pods": {"a": ["p"]}}
        assert archive.ignored == [
            'ignoring unexpected file "resources/stray.json" in the backup archive',
            'ignoring unexpected file "resources/pods/namespaces/loose.json" in the backup archive',
            'ignoring unexpected file "resources/pods/namespaces/a/sub/deep.json" in the backup archive',
        ]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (entry("../evil.json", "{}"), 'invalid archive path "../evil.json": escapes target directory'),
        (
            entry("resources/../../evil.json", "{}"),
            'invalid archive path "resources/../../evil.json": escapes target directory',
        ),
        (
            entry("resources/pods/../pods/namespaces/a/x.json", "{}"),
            'invalid archive path "resources/pods/../pods/namespaces/a/x.json": '
            "contains a parent directory reference",
        ),
        (
            entry("/etc/cron.d/evil", "{}"),
            'invalid archive path "/etc/cron.d/evil": absolute paths are not allowed',
        ),
        (
            entry("resources/pods/namespaces/a/link.json", kind=tarfile.SYMTYPE, link="/etc/passwd"),
            'invalid archive entry "resources/pods/namespaces/a/link.json": symbolic links are not allowed',
        ),
        (
            entry("resources/pods/namespaces/a/hard.json", kind=tarfile.LNKTYPE, link="etc/passwd"),
            'invalid archive entry "resources/pods/namespaces/a/hard.json": hard links are not allowed',
        ),
        (
            entry("resources/pods/namespaces/a/dev.json", kind=tarfile.CHRTYPE),
            'invalid archive entry "resources/pods/namespaces/a/dev.json": device files are not allowed',
        ),
        (
            entry("resources/pods/namespaces/a/blk.json", kind=tarfile.BLKTYPE),
            'invalid archive entry "resources/pods/namespaces/a/blk.json": device files are not allowed',
        ),
        (
            entry("resources/pods/namespaces/a/fifo.json", kind=tarfile.FIFOTYPE),
            'invalid archive entry "resources/pods/namespaces/a/fifo.json": named pipes are not allowed',
        ),
    ],
    ids=[
        "dotdot",
        "escape",
        "inner-dotdot",
        "absolute",
        "symlink",
        "hardlink",
        "chardev",
        "blockdev",
        "fifo",
    ],
)
def test_unsafe_entries_are_refused_and_nothing_is_written(
    storage: BackupStorage, tmp_path: Path, workdir: Path, bad: Entry, message: str
) -> None:
    before = set(tmp_path.rglob("*"))
    data = tar_gz(json_entry("resources/pods/namespaces/a/p.json", item("Pod", "p", "a")), bad)
    with pytest.raises(BackupError) as caught:
        open_bytes(storage, data, workdir)
    assert str(caught.value) == f"backup archive {storage.display(storage.archive_path('b1'))}: {message}"
    assert list(workdir.iterdir()) == []
    created = {p for p in set(tmp_path.rglob("*")) - before if "bsl" not in p.parts}
    assert created == set()


def test_truncated_archive_names_the_archive(storage: BackupStorage, workdir: Path) -> None:
    data = tar_gz(
        *(json_entry(f"resources/pods/namespaces/a/p{i}.json", item("Pod", f"p{i}", "a")) for i in range(50))
    )
    where = storage.display(storage.archive_path("b1"))
    for cut in (len(data) // 2, len(data) - 4):
        with pytest.raises(BackupError) as caught:
            open_bytes(storage, data[:cut], workdir)
        assert str(caught.value).startswith(f"backup archive {where} is truncated: ")
    assert list(workdir.iterdir()) == []


def test_corrupt_gzip_names_the_archive(storage: BackupStorage, workdir: Path) -> None:
    data = bytearray(
        tar_gz(*(entry(f"resources/pods/namespaces/a/p{i}.json", "{}" * 200) for i in range(20)))
    )
    data[len(data) // 2 : len(data) // 2 + 16] = b"\x00" * 16
    where = storage.display(storage.archive_path("b1"))
    with pytest.raises(BackupError, match=rf"^backup archive {where} is (corrupt|truncated): "):
        open_bytes(storage, bytes(data), workdir)


def test_not_a_gzip_file(storage: BackupStorage, workdir: Path) -> None:
    where = storage.display(storage.archive_path("b1"))
    with pytest.raises(BackupError) as caught:
        open_bytes(storage, b"PK\x03\x04 this is a zip file", workdir)
    assert str(caught.value) == f"backup archive {where} is not a gzip file: Not a gzipped file (b'PK')"


def test_gzip_of_garbage_is_a_corrupt_tar(storage: BackupStorage, workdir: Path) -> None:
    where = storage.display(storage.archive_path("b1"))
    with pytest.raises(BackupError, match=rf"^backup archive {where} is corrupt: "):
        open_bytes(storage, gzip.compress(b"x" * 2000), workdir)


def test_missing_archive(storage: BackupStorage, workdir: Path) -> None:
    BackupBuilder("b1").write(storage)
    storage.fs.rm_file(storage.archive_path("b1"))
    with pytest.raises(BackupError) as caught:
        storage.open_archive("b1", workdir=workdir)
    assert str(caught.value) == f"backup archive {storage.display(storage.archive_path('b1'))} does not exist"


def test_spill_folder_is_private_and_removed_on_close(storage: BackupStorage, workdir: Path) -> None:
    b = BackupBuilder("b1")
    b.add(item("Pod", "p", "a"))
    b.write(storage)
    archive = storage.open_archive("b1", workdir=workdir)
    (spill,) = list(workdir.iterdir())
    assert oct(spill.stat().st_mode & 0o777) == "0o700"
    assert [p.name for p in spill.iterdir()] == ["entries"]
    archive.close()
    assert list(workdir.iterdir()) == []
    archive.close()  # closing twice is harmless


def test_reads_from_many_threads(storage: BackupStorage, workdir: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    b = BackupBuilder("b1")
    for i in range(300):
        b.add(item("ConfigMap", f"c{i:03}", "a") | {"data": {"i": str(i)}})
    b.write(storage)
    with storage.open_archive("b1", workdir=workdir) as archive, ThreadPoolExecutor(8) as pool:
        names = archive.inventory["configmaps"]["a"]
        found = list(pool.map(lambda n: archive.read_item("configmaps", "a", n)["data"]["i"], names))
    assert found == [str(i) for i in range(300)]


def test_default_workdir_is_the_system_temp(storage: BackupStorage) -> None:
    b = BackupBuilder("b1")
    b.add(item("Pod", "p", "a"))
    b.write(storage)
    with storage.open_archive("b1") as archive:
        assert archive.read_item("pods", "a", "p")["kind"] == "Pod"
        spill = Path(archive.spill_dir)
        assert spill.parent == Path(tempfile.gettempdir())
        assert spill.exists()
    assert not spill.exists()


def test_versions_sort_in_kubernetes_priority_order() -> None:
    versions = ["v2", "v11alpha2", "foo10", "v10", "v12alpha1", "v3beta1", "foo1", "v1"]
    versions += ["v10beta3", "v11beta2"]
    expected = ["v10", "v2", "v1", "v11beta2", "v10beta3", "v3beta1", "v12alpha1", "v11alpha2"]
    expected += ["foo1", "foo10"]
    assert sorted(versions, key=version_priority) == expected


def test_long_names_survive_the_round_trip(storage: BackupStorage, workdir: Path) -> None:
    long_name = "a" * 63 + "." + "b" * 63 + "." + "c" * 60
    crd = item("CustomResourceDefinition", long_name, None, "apiextensions.k8s.io/v1")
    b = BackupBuilder("b1")
    b.add(crd)
    b.write(storage)
    with storage.open_archive("b1", workdir=workdir) as archive:
        assert archive.inventory == {"customresourcedefinitions.apiextensions.k8s.io": {"": [long_name]}}
        assert archive.read_item("customresourcedefinitions.apiextensions.k8s.io", "", long_name) == crd


@pytest.mark.parametrize("tar_format", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_every_tar_flavour_reads(storage: BackupStorage, workdir: Path, tar_format: int) -> None:
    name = "deployment-with-a-rather-long-name-" + "x" * 40
    deployment = item("Deployment", name, "shop", "apps/v1")
    data = tar_gz(
        entry("metadata/", kind=tarfile.DIRTYPE),
        entry("metadata/version", "1.1.0\n"),
        entry("resources/", kind=tarfile.DIRTYPE),
        json_entry(f"resources/deployments.apps/namespaces/shop/{name}.json", deployment),
        json_entry(f"resources/deployments.apps/v1-preferredversion/namespaces/shop/{name}.json", deployment),
        tar_format=tar_format,
    )
    with open_bytes(storage, data, workdir) as archive:
        assert archive.inventory == {"deployments.apps": {"shop": [name]}}
        assert archive.read_item("deployments.apps", "shop", name)["metadata"]["name"] == name
        assert archive.group_versions()["deployments.apps"].preferred == "v1"
        preferred = archive.read_item("deployments.apps", "shop", name, "v1-preferredversion")
        assert preferred == deployment  # Velero writes the same item to the classic path
