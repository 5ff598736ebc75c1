"""Install a plugin package the way pip leaves one: a module and a `.dist-info` with entry points."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def installed_plugin(
    folder: Path, monkeypatch: pytest.MonkeyPatch, source: str, entries: dict[str, str]
) -> Iterator[str]:
    """Put `source` on sys.path as a module registering `entries` (entry name -> target, where
    `{module}` stands for that module: "{module}:MyAction") in `restoreflow.restore_item_actions`;
    yields the module's name, forgotten afterwards."""
    module = f"rf_plugin_{folder.name.replace('-', '_')}"
    (folder / f"{module}.py").write_text(source)
    dist_info = folder / f"{module}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    lines = ["[restoreflow.restore_item_actions]"]
    lines += [f"{name} = {target.format(module=module)}" for name, target in entries.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(folder))
    try:
        yield module
    finally:
        sys.modules.pop(module, None)
