"""Volume snapshotter plugins are found through the `restoreflow.volume_snapshotters` entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from restoreflow.restore.snapshotters import SnapshotterError, VolumeSnapshotter, load_volume_snapshotter


def install_plugin(root: Path, entries: dict[str, str]) -> None:
    """A distribution's metadata on sys.path: importlib.metadata discovers it like an installed one."""
    dist = root / "restoreflow_test_disks-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: restoreflow-test-disks\nVersion: 0.1\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (dist / "entry_points.txt").write_text(f"[restoreflow.volume_snapshotters]\n{lines}")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_plugin_is_loaded_by_provider_name_with_veleros_prefix_rule(plugins: Path) -> None:
    install_plugin(plugins, {"velero.io/fake": "tests.volumes.fake_disks:FakeDiskSnapshotter"})
    snapshotter = load_volume_snapshotter("fake")
    assert isinstance(snapshotter, VolumeSnapshotter)
    snapshotter.init({"prefix": "disk-"})
    assert snapshotter.create_volume_from_snapshot("snap-1", "gp3", "eu-1a", None) == "disk-snap-1"


def test_unknown_provider_is_a_clear_error(plugins: Path) -> None:
    with pytest.raises(
        SnapshotterError, match=r"unable to locate VolumeSnapshotter plugin named velero\.io/nowhere"
    ):
        load_volume_snapshotter("nowhere")


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("tests.volumes.no_such_module:X", "unable to load volume snapshotter"),
        ("builtins:dict", "does not implement"),
    ],
)
def test_broken_plugins_are_reported(plugins: Path, target: str, message: str) -> None:
    install_plugin(plugins, {"example.com/broken": target})
    with pytest.raises(SnapshotterError, match=message):
        load_volume_snapshotter("example.com/broken")
