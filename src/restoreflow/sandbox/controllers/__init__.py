"""The controllers a restore depends on, each acting after its configurable delay: namespaces,
CRDs, storage, pods, Velero's PodVolumeRestores and DataDownloads, and workload readiness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from restoreflow.sandbox.catalog import ResourceType
from restoreflow.sandbox.controllers.base import Controller
from restoreflow.sandbox.controllers.data_downloads import DD_ANNOTATION, DDS, DataDownloadController
from restoreflow.sandbox.controllers.definitions import CRDS, DefinitionController
from restoreflow.sandbox.controllers.garbage import GarbageCollector
from restoreflow.sandbox.controllers.namespaces import NamespaceController
from restoreflow.sandbox.controllers.pods import PodController
from restoreflow.sandbox.controllers.storage import PVCS, PVS, StorageController
from restoreflow.sandbox.controllers.volume_restores import PVR_ANNOTATION, PVRS, PodVolumeRestoreController
from restoreflow.sandbox.controllers.workloads import WORKLOADS, WorkloadController
from restoreflow.sandbox.store import Event

if TYPE_CHECKING:
    from restoreflow.sandbox.cluster import Cluster

__all__ = ["DD_ANNOTATION", "PVR_ANNOTATION", "Controllers"]


class Controllers:
    """Every controller of one cluster, fed each stored change of the resources it watches."""

    def __init__(self, cluster: Cluster) -> None:
        self.namespaces = NamespaceController(cluster)
        self.definitions = DefinitionController(cluster)
        self.storage = StorageController(cluster)
        self.pods = PodController(cluster)
        self.volume_restores = PodVolumeRestoreController(cluster)
        self.data_downloads = DataDownloadController(cluster)
        self.workloads = WorkloadController(cluster)
        self.garbage = GarbageCollector(cluster)
        self._routes: dict[str, Controller] = {
            "namespaces": self.namespaces,
            CRDS: self.definitions,
            PVCS: self.storage,
            PVS: self.storage,
            "pods": self.pods,
            PVRS: self.volume_restores,
            DDS: self.data_downloads,
            **dict.fromkeys(WORKLOADS, self.workloads),
        }
        cluster.store.subscribe(self.on_event)

    def on_event(self, event: Event) -> None:
        controller = self._routes.get(event.rtype.group_resource)
        if controller is not None:
            controller.on_event(event)
        self.garbage.on_event(event)

    def loaded(self, rtype: ResourceType, obj: dict[str, Any]) -> None:
        """Objects loaded as pre-existing state: CRDs are served and namespaces set up at once."""
        if rtype.group_resource == CRDS:
            self.definitions.establish(obj["metadata"]["name"])
        elif rtype.group_resource == "namespaces":
            self.namespaces.set_up(obj["metadata"]["name"])

    def namespace_terminating(self, name: str) -> None:
        self.namespaces.terminate(name)
