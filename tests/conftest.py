"""Shared fixtures: the sandbox API server, the real control plane and a moto S3 server on loopback."""

pytest_plugins = [
    "restoreflow.sandbox.pytest_plugin",
    "restoreflow.controlplane.pytest_plugin",
    "tests.plugins.s3",
    "tests.plugins.restoreflow_home",
]
