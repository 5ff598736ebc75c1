"""Kubernetes access for the engine: client setup, discovery, rate limiting and retries."""

from restoreflow.cluster.client import Cluster, make_api_client, wait_until
from restoreflow.cluster.discovery import Discovery, GroupVersions, ResourceInfo
from restoreflow.cluster.errors import ApiError, ConnectionFault
from restoreflow.cluster.ratelimit import TokenBucket

__all__ = [
    "ApiError",
    "Cluster",
    "ConnectionFault",
    "Discovery",
    "GroupVersions",
    "ResourceInfo",
    "TokenBucket",
    "make_api_client",
    "wait_until",
]
