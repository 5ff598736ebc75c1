"""Volume snapshotter plugins: how a cloud provider turns a native snapshot back into a volume.

A provider package registers a class (or a factory taking no arguments) in the entry-point group
`restoreflow.volume_snapshotters`, named like Velero's provider (`velero.io/aws`, or just `aws`):

    [project.entry-points."restoreflow.volume_snapshotters"]
    "example.com/disks" = "example_disks:DiskSnapshotter"

The snapshot's `spec.location` names a Velero VolumeSnapshotLocation in the target's Velero
namespace; its `spec.provider` picks the plugin and its `spec.config` is passed to `init`.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

GROUP = "restoreflow.volume_snapshotters"


@runtime_checkable
class VolumeSnapshotter(Protocol):
    """The restore half of Velero's VolumeSnapshotter plugin interface."""

    def init(self, config: Mapping[str, str]) -> None:
        """Configure the plugin from the VolumeSnapshotLocation's `spec.config`."""
        ...

    def create_volume_from_snapshot(
        self, snapshot_id: str, volume_type: str, volume_az: str, iops: int | None
    ) -> str:
        """Create a volume from the snapshot; returns the provider's volume ID."""
        ...

    def set_volume_id(self, pv: dict[str, Any], volume_id: str) -> dict[str, Any]:
        """The PV pointing at the new volume (a plugin may also rename it)."""
        ...


class SnapshotterError(Exception):
    """No usable plugin for a provider."""


def _provider_names(provider: str) -> tuple[str, ...]:
    """Velero accepts a bare provider name for its own namespace: `aws` is `velero.io/aws`."""
    return (provider,) if "/" in provider else (provider, f"velero.io/{provider}")


def load_volume_snapshotter(provider: str) -> VolumeSnapshotter:
    """A new snapshotter for the provider, from the entry points."""
    names = _provider_names(provider)
    for entry in entry_points(group=GROUP):
        if entry.name in names:
            try:
                snapshotter = entry.load()()
            except Exception as err:
                raise SnapshotterError(f"unable to load volume snapshotter {entry.name!r}: {err}") from err
            if not isinstance(snapshotter, VolumeSnapshotter):
                raise SnapshotterError(f"volume snapshotter {entry.name!r} does not implement the interface")
            return snapshotter
    raise SnapshotterError(f"unable to locate VolumeSnapshotter plugin named {names[-1]}")
