"""restoreflow.sandbox: a local Kubernetes API server faithful enough to restore into (a test double).

```python
from restoreflow.sandbox import start_sandbox
with start_sandbox(velero_crds=True) as sb:
    api = kubernetes.client.CoreV1Api(sb.api_client())
```

Layout: `handle` (start_sandbox, the Sandbox handle), `server` (HTTP, exec, watch, faults, request
log), `cluster` (REST semantics over the `store`), `admission` and `validation` (defaults, checks,
Service allocation), `controllers/` (namespaces, CRDs, storage, pods, PodVolumeRestores, workloads),
`catalog` and `discovery` (served types), `faults`, `crds`, `pytest_plugin`.
"""

from restoreflow.sandbox.crds import snapshot_crds, velero_crds
from restoreflow.sandbox.faults import FaultRule
from restoreflow.sandbox.handle import Sandbox, start_sandbox, write_kubeconfig
from restoreflow.sandbox.options import SandboxOptions

__all__ = [
    "FaultRule",
    "Sandbox",
    "SandboxOptions",
    "snapshot_crds",
    "start_sandbox",
    "velero_crds",
    "write_kubeconfig",
]
