"""A volume snapshotter plugin for the tests: "restores" a snapshot into a volume named after it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FakeDiskSnapshotter:
    """Volume IDs are `<prefix><snapshot id>`; the prefix comes from the VolumeSnapshotLocation config."""

    def __init__(self) -> None:
        self.prefix = "vol-"

    def init(self, config: Mapping[str, str]) -> None:
        self.prefix = config.get("prefix", self.prefix)

    def create_volume_from_snapshot(
        self, snapshot_id: str, volume_type: str, volume_az: str, iops: int | None
    ) -> str:
        if snapshot_id == "snap-broken":
            raise RuntimeError("the snapshot is gone")
        return f"{self.prefix}{snapshot_id}"

    def set_volume_id(self, pv: dict[str, Any], volume_id: str) -> dict[str, Any]:
        pv["spec"].setdefault("csi", {"driver": "disks.example.com"})["volumeHandle"] = volume_id
        return pv
