"""Before a restore is submitted: the target cluster is there and lets this user create.

Checked in well under a second, in kubectl's order of precedence (an explicit kubeconfig, then
KUBECONFIG, then ~/.kube/config, then the in-cluster service account): the kubeconfig file (named
in the error), the context, that the API server answers, and SelfSubjectAccessReviews for `create`
in each target namespace (and `get` in Velero's namespace when the plan reads Velero's ConfigMaps).
A failure here leaves no restore record and starts no flow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from restoreflow.cli.common import CliError

TIMEOUT = 3.0  # seconds for each call: a healthy API server answers in milliseconds


def kubeconfig_files(kubeconfig: str | None) -> list[Path]:
    """The kubeconfig files kubectl would read; empty for in-cluster configuration."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    if os.environ.get("KUBECONFIG"):
        return [Path(p).expanduser() for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    default = Path("~/.kube/config").expanduser()
    if not default.exists() and os.environ.get("KUBERNETES_SERVICE_HOST"):
        return []
    return [default]


def check_target(target: Any, namespaces: list[str], config_namespace: str | None = None) -> None:
    """`target` is the plan's Target; `namespaces` the namespaces restored into (empty: all);
    `config_namespace` where Velero's ConfigMaps are read, when the plan honours them."""
    cluster = _connect(target)
    try:
        _check_answers(cluster)
        for namespace in namespaces or [""]:
            _check_may(cluster, "create", namespace)
        if config_namespace:
            _check_may(cluster, "list", config_namespace, WHY_CONFIG_MAPS)
    finally:
        cluster.close()


def cluster_version(target: Any) -> tuple[str, str]:
    """The API server's gitVersion and address (`restoreflow version`)."""
    cluster = _connect(target)
    try:
        return str(_check_answers(cluster).get("gitVersion", "")), cluster.host
    finally:
        cluster.close()


def _connect(target: Any) -> Any:
    """The kubeconfig checked, then a Cluster for it."""
    files = kubeconfig_files(target.kubeconfig)
    existing = [path for path in files if path.is_file()]
    if files and not existing:
        named = ", ".join(str(path) for path in files)
        source = "" if target.kubeconfig else " (KUBECONFIG)" if os.environ.get("KUBECONFIG") else ""
        raise CliError(f"kubeconfig file {named}{source} does not exist: pass --kubeconfig PATH")
    if files:
        _check_context(target, existing)
    return _api_client(target, existing)


def _check_context(target: Any, files: list[Path]) -> None:
    from kubernetes import config

    where = target.kubeconfig or os.pathsep.join(str(path) for path in files)
    try:
        contexts, current = config.list_kube_config_contexts(where if target.kubeconfig else None)
    except config.ConfigException as err:
        raise CliError(f"invalid kubeconfig {where}: {err}") from None
    except Exception as err:  # unreadable YAML
        raise CliError(f"invalid kubeconfig {where}: {err}") from None
    names = [context["name"] for context in contexts or []]
    if target.context and target.context not in names:
        raise CliError(
            f'context "{target.context}" not found in kubeconfig {where} (contexts: {", ".join(names)})'
        )
    if not target.context and not current:
        raise CliError(f"kubeconfig {where} has no current context: pass --context NAME")


def _api_client(target: Any, files: list[Path]) -> Any:
    """The engine's Cluster, with one attempt per call and a short timeout."""
    from kubernetes import config

    from restoreflow.cluster import Cluster, make_api_client
    from restoreflow.plan.model import ApiRetries

    try:
        api_client = make_api_client(target, pool_size=2)
    except (config.ConfigException, OSError, ValueError) as err:
        where = ", ".join(str(path) for path in files) or "in-cluster configuration"
        raise CliError(f"cannot use kubeconfig {where}: {err}") from None
    return Cluster(api_client, retries=ApiRetries(attempts=1, request_timeout=TIMEOUT))


WHY_CONFIG_MAPS = (
    " (to read Velero's ConfigMaps there, as a restore made from Velero's flags does; a plan can do"
    " without them: transforms.honorVeleroConfigMaps: false)"
)


def _check_answers(cluster: Any) -> dict[str, Any]:
    """GET /version, once."""
    from restoreflow.cluster import ApiError, ConnectionFault

    try:
        return dict(cluster.version())
    except ApiError as err:
        if err.code in (401, 403):
            raise CliError(f"the API server at {cluster.host} refused the credentials: {err}") from None
        raise CliError(f"the API server at {cluster.host} answered {err.code}: {err}") from None
    except ConnectionFault as err:
        raise CliError(f"the API server at {cluster.host} cannot be reached: {_reason(err)}") from None


def _check_may(cluster: Any, verb: str, namespace: str, why: str = "") -> None:
    """A SelfSubjectAccessReview for a verb on ConfigMaps in the namespace (cluster-wide when empty)."""
    from restoreflow.cluster import ApiError, ConnectionFault

    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": {"verb": verb, "resource": "configmaps", "namespace": namespace}},
    }
    try:
        answer = cluster.request(
            "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body=review
        )
    except ApiError as err:
        if err.not_found:
            return  # an API server without the authorization API cannot be asked: the restore will tell
        raise CliError(f"cannot check access on the API server at {cluster.host}: {err}") from None
    except ConnectionFault as err:
        raise CliError(f"the API server at {cluster.host} cannot be reached: {_reason(err)}") from None
    status = answer.get("status") or {}
    if not status.get("allowed"):
        where = f'the namespace "{namespace}"' if namespace else "the cluster"
        reason = f" ({status['reason']})" if status.get("reason") else ""
        raise CliError(f"{_who(cluster)} cannot {verb} configmaps in {where} on {cluster.host}{why}{reason}")


def _who(cluster: Any) -> str:
    """`user "NAME"` as the API server knows it (a SelfSubjectReview, kubectl auth whoami's question)."""
    from restoreflow.cluster import ApiError, ConnectionFault

    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    try:
        answer = cluster.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
    except (ApiError, ConnectionFault):
        return "this user"
    name = ((answer.get("status") or {}).get("userInfo") or {}).get("username")
    return f'user "{name}"' if name else "this user"


def _reason(error: BaseException) -> str:
    """`GET /version: <urllib3's long text>` -> its last, readable part ("Connection refused")."""
    return str(error).rsplit(": ", 1)[-1].rstrip(")'\"")
