"""Where the control plane's programs come from: `KUBEBUILDER_ASSETS` (envtest's convention) or a build
of `tools/kube` from Kubernetes' own Go modules, cached per source so that later runs reuse it."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KUBERNETES_VERSION = "v1.37.2"
KWOK_MODULE, KWOK_VERSION = "sigs.k8s.io/kwok/cmd/kwok", "v0.8.0"  # serves exec in place of a kubelet
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler")
# envtest's assets hold these two; the others always come from our build unless the folder has them.
ENVTEST_COMPONENTS = ("etcd", "kube-apiserver")
GO_FALLBACKS = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")  # where Go's installers put it


class BinariesError(Exception):
    """The programs cannot be found or built; the message says what to install or set."""


@dataclass(frozen=True)
class Binaries:
    """The path of each component's program and where each came from."""

    paths: dict[str, Path]
    origin: dict[str, str]

    def __getitem__(self, component: str) -> Path:
        return self.paths[component]


def cache_root() -> Path:
    """`RESTOREFLOW_CACHE`, else `$XDG_CACHE_HOME/restoreflow`, else `~/.cache/restoreflow`."""
    explicit = os.environ.get("RESTOREFLOW_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(xdg) / "restoreflow"


def source_dir() -> Path:
    """The Go module that builds the components (`RESTOREFLOW_KUBE_SOURCE`, else the checkout's)."""
    explicit = os.environ.get("RESTOREFLOW_KUBE_SOURCE")
    if explicit:
        return Path(explicit).expanduser()
    return Path(__file__).resolve().parents[3] / "tools" / "kube"


def find_binaries(*, build: bool = True, say: Callable[[str], None] | None = None) -> Binaries:
    """The four programs: from KUBEBUILDER_ASSETS where it holds them, the rest from the cached build
    (building it first when `build` and the cache is missing)."""
    paths: dict[str, Path] = {}
    origin: dict[str, str] = {}
    assets = os.environ.get("KUBEBUILDER_ASSETS")
    if assets:
        folder = Path(assets).expanduser()
        if not all(_executable(folder / name) for name in ENVTEST_COMPONENTS):
            raise BinariesError(
                f"KUBEBUILDER_ASSETS={assets} has no {' and '.join(ENVTEST_COMPONENTS)} "
                "(install them with setup-envtest, or unset it to build them from Kubernetes' modules)"
            )
        for name in COMPONENTS:
            if _executable(folder / name):
                paths[name] = folder / name
                origin[name] = "KUBEBUILDER_ASSETS"
    missing = [name for name in COMPONENTS if name not in paths]
    if missing:
        built = built_program(build=build, say=say)
        for name in missing:
            paths[name] = built.parent / name
            origin[name] = f"built from k8s.io/kubernetes {KUBERNETES_VERSION}"
    return Binaries(paths, origin)


def built_program(*, build: bool = True, say: Callable[[str], None] | None = None) -> Path:
    """The multi-call program, built once per source digest under the cache; one builder at a time."""
    source = source_dir()
    if not (source / "go.mod").is_file():
        raise BinariesError(
            f"no Go module at {source} to build kube-apiserver from: run from a restoreflow checkout, "
            "set RESTOREFLOW_KUBE_SOURCE, or set KUBEBUILDER_ASSETS to envtest's binaries"
        )
    program = cache_root() / "kube" / f"{KUBERNETES_VERSION}-{_digest(source)}" / "kube"
    return _cached(program, lambda: _go_build(source, program, say or _stderr), build)


def kwok_program(*, build: bool = True, say: Callable[[str], None] | None = None) -> Path:
    """kwok, `go install`ed once from its module into the cache; the control plane runs it to answer
    the API server's exec requests for the simulated node (its Exec/ClusterExec "local" mode)."""
    program = cache_root() / "kwok" / KWOK_VERSION / "kwok"

    def install() -> None:
        (say or _stderr)(f"building kwok {KWOK_VERSION} from its Go module into {program.parent} (once)")
        env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(program.parent)}
        command = [_go(), "install", f"{KWOK_MODULE}@{KWOK_VERSION}"]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise BinariesError(f"go install {KWOK_MODULE}@{KWOK_VERSION} failed:\n{done.stderr[-4000:]}")

    return _cached(program, install, build)


def _cached(program: Path, make: Callable[[], None], build: bool) -> Path:
    """`program` from the cache, made once (by one process at a time) when it is missing."""
    if _executable(program):
        return program
    if not build:
        raise BinariesError(f"{program.name} is not built yet ({program}); run `make kube`")
    program.parent.mkdir(parents=True, exist_ok=True)
    with open(program.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _executable(program):
            make()
    return program


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _go() -> str:
    go = shutil.which("go") or next((g for g in GO_FALLBACKS if _executable(Path(g))), None)
    if go is None:
        raise BinariesError(
            "building kube-apiserver needs Go (1.26+) on PATH, or KUBEBUILDER_ASSETS with envtest's binaries"
        )
    return go


def _go_build(source: Path, program: Path, say: Callable[[str], None]) -> None:
    go = _go()
    say(
        f"building kube-apiserver, etcd, kube-controller-manager and kube-scheduler {KUBERNETES_VERSION} "
        f"from Kubernetes' Go modules into {program.parent} (the first build takes about 20 minutes "
        "on 2 cores; later runs reuse it)"
    )
    partial = program.with_suffix(".partial")
    command = [go, "build", "-o", str(partial), "-ldflags", _version_flags(), "."]
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": os.environ.get("GOFLAGS", "-buildvcs=false")}
    done = subprocess.run(command, cwd=source, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BinariesError(f"go build in {source} failed:\n{done.stderr[-4000:]}")
    partial.rename(program)
    for name in COMPONENTS:
        link = program.parent / name
        link.unlink(missing_ok=True)
        link.symlink_to(program.name)


def _version_flags() -> str:
    """`-X` stamps so that /version and discovery report the release, as Kubernetes' own build does."""
    major, minor = KUBERNETES_VERSION.lstrip("v").split(".")[:2]
    stamps = {
        "gitVersion": KUBERNETES_VERSION,
        "gitMajor": major,
        "gitMinor": minor,
        "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
    }
    flags = ["-s", "-w"]
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {package}.{key}={value}" for key, value in stamps.items()]
    return " ".join(flags)


def _digest(source: Path) -> str:
    """A digest of the module's inputs, so a change of version or code builds anew."""
    digest = hashlib.sha256()
    for path in sorted(source.glob("*")):
        if path.suffix in (".go", ".mod", ".sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)
