"""Reading a backup: inventory and stream every item of 10,000 and 50,000-item backups.

restoreflow streams the tar.gz once into a spill file and reads items back by offset. Two
baselines run in the same session on the same archive:
- extract-all: what Velero does, unpack every entry into a folder tree, then read the files;
- in-memory: keep every entry's bytes in a dict (the naive way to get random access).
Each measurement runs in a fresh process so its peak RSS is its own.
"""

from __future__ import annotations

import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from restoreflow.backup import BackupBuilder, BackupStorage

SIZES = (10_000, 50_000)
KINDS = (("v1", "ConfigMap"), ("v1", "Secret"), ("v1", "Service"), ("v1", "Pod"), ("apps/v1", "Deployment"))


def realistic_item(i: int) -> dict:
    api_version, kind = KINDS[i % len(KINDS)]
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {
            "name": f"{kind.lower()}-{i:06}",
            "namespace": f"team-{i % 20:02}",
            "uid": f"{i:08x}-5f1e-4a4b-9c3d-2b1a0f9e8d7c",
            "resourceVersion": str(100000 + i),
            "creationTimestamp": "2026-11-20T01:00:00Z",
            "labels": {"app": f"app-{i % 97}", "app.kubernetes.io/part-of": "bench"},
            "managedFields": [
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": api_version,
                    "time": "2026-11-20T01:00:00Z",
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}, "f:data": {".": {}}},
                }
            ],
        },
        "data": {f"key-{k}": f"value-{i}-{k}-" + "x" * 60 for k in range(8)},
    }


def build(folder: str, size: int) -> str:
    name = f"bench-{size}"
    builder = BackupBuilder(name)
    for i in range(size):
        builder.add(realistic_item(i))
    builder.write(folder)
    return name


def memory_status(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field + ":"))
    return int(line.split()[1]) * 1024


def start_measuring() -> tuple[int, float]:
    """Reset the peak RSS to the current RSS (Linux clear_refs), then note RSS and time."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    return memory_status("VmRSS"), time.perf_counter()


def peak_extra(rss_before: int) -> int:
    return memory_status("VmHWM") - rss_before


def measured(items: int, start: float, inventoried: float, rss_before: int) -> dict:
    """One reader's figures: items read, seconds to the inventory and in all, peak memory added."""
    return {
        "items": items,
        "inventory_s": inventoried,
        "total_s": time.perf_counter() - start,
        "peak_extra": peak_extra(rss_before),
    }


def read_with_restoreflow(folder: str, name: str) -> dict:
    storage = BackupStorage.open(folder)
    before, start = start_measuring()
    with storage.open_archive(name) as archive:
        inventoried = time.perf_counter() - start
        items = 0
        for resource_dir, namespaces in archive.inventory.items():
            for namespace, names in namespaces.items():
                for item_name in names:
                    archive.read_item(resource_dir, namespace, item_name)
                    items += 1
    return measured(items, start, inventoried, before)


def read_extract_all(folder: str, name: str) -> dict:
    archive = Path(folder, "backups", name, f"{name}.tar.gz")
    before, start = start_measuring()
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        inventoried = time.perf_counter() - start
        items = 0
        for resource_dir in Path(tmp, "resources").iterdir():
            for scope in ("cluster", "namespaces"):
                files = resource_dir.glob("cluster/*.json" if scope == "cluster" else "namespaces/*/*.json")
                for path in files:
                    json.loads(path.read_bytes())
                    items += 1
    return measured(items, start, inventoried, before)


def read_in_memory(folder: str, name: str) -> dict:
    archive = Path(folder, "backups", name, f"{name}.tar.gz")
    before, start = start_measuring()
    entries: dict[str, bytes] = {}
    with tarfile.open(archive, "r|gz") as tar:
        for member in tar:
            if member.isreg():
                entries[member.name] = tar.extractfile(member).read()  # type: ignore[union-attr]
    inventoried = time.perf_counter() - start
    items = 0
    for path, data in entries.items():
        if path.startswith("resources/") and "version" not in path.split("/")[2]:
            json.loads(data)
            items += 1
    return measured(items, start, inventoried, before)


def in_fresh_process(func: Callable[[str, str], dict], folder: str, name: str) -> dict:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(func, folder, name).result()


def unpacked_size(archive: Path) -> int:
    """What the archive's files hold once unpacked (every regular file, version folders included)."""
    with tarfile.open(archive, "r:gz") as tar:
        return sum(member.size for member in tar if member.isreg())


def mib(n: float) -> str:
    return f"{n / 2**20:7.1f} MiB"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as folder:
        for size in SIZES:
            name = build(folder, size)
            archive_size = os.path.getsize(Path(folder, "backups", name, f"{name}.tar.gz"))
            ours = in_fresh_process(read_with_restoreflow, folder, name)
            extract = in_fresh_process(read_extract_all, folder, name)
            memory = in_fresh_process(read_in_memory, folder, name)
            unpacked = unpacked_size(Path(folder, "backups", name, f"{name}.tar.gz"))
            print(f"{size:,} items: archive {mib(archive_size)} gzip, {mib(unpacked)} unpacked")
            for label, result in (("restoreflow", ours), ("extract-all", extract), ("in-memory", memory)):
                rate = result["items"] / result["total_s"]
                print(
                    f"  {label:12} inventory {result['inventory_s']:6.2f}s"
                    f"  all items {result['total_s']:6.2f}s"
                    f"  ({rate:8,.0f} items/s)  peak memory +{mib(result['peak_extra'])}"
                    f"  = {result['peak_extra'] / unpacked:5.1%} of unpacked"
                )
            print(
                f"  ratios: time vs extract-all {ours['total_s'] / extract['total_s']:.2f}x, "
                f"peak memory vs in-memory {ours['peak_extra'] / max(memory['peak_extra'], 1):.2f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
