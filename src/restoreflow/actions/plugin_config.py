"""Velero's plugin ConfigMaps, honoured when the plan's `transforms.honorVeleroConfigMaps` is on.

A plugin's ConfigMap lives in the plan's `transforms.veleroNamespace` and carries the labels
`velero.io/plugin-config` and `<plugin name>=RestoreItemAction`. None means no configuration;
more than one is Velero's error, which fails every item the action sees.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from restoreflow.actions.base import ActionError, RestoreView

PLUGIN_KIND = "RestoreItemAction"


def plugin_config_selector(plugin: str) -> str:
    return f"velero.io/plugin-config,{plugin}={PLUGIN_KIND}"


def read_plugin_config(restore: RestoreView, plugin: str) -> Mapping[str, str]:
    """The `data` of the plugin's ConfigMap in the target cluster ({} when the switch is off or
    there is none). Raises ActionError with Velero's message when several ConfigMaps match."""
    transforms = restore.plan.spec.transforms
    if not transforms.honor_velero_config_maps:
        return {}
    selector = plugin_config_selector(plugin)
    found = restore.cluster.list("configmaps", namespace=transforms.velero_namespace, label_selector=selector)
    if len(found) > 1:
        names = " ".join(sorted(cm["metadata"]["name"] for cm in found))
        raise ActionError(f'found more than one ConfigMap matching label selector "{selector}": [{names}]')
    return dict(found[0].get("data") or {}) if found else {}


class PluginConfig:
    """A plugin's ConfigMap data, read once per restore (by uid) and shared by the worker threads."""

    def __init__(self, plugin: str) -> None:
        self.plugin = plugin
        self._lock = threading.Lock()
        self._cache: dict[str, Mapping[str, str] | ActionError] = {}

    def data(self, restore: RestoreView) -> Mapping[str, str]:
        with self._lock:
            if restore.uid not in self._cache:
                try:
                    self._cache[restore.uid] = read_plugin_config(restore, self.plugin)
                except ActionError as error:
                    self._cache[restore.uid] = error
            cached = self._cache[restore.uid]
        if isinstance(cached, ActionError):
            raise ActionError(str(cached))
        return cached
