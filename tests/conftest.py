"""Shared fixtures: the sandbox API server and a moto S3 server on loopback."""

pytest_plugins = ["restoreflow.sandbox.pytest_plugin", "tests.plugins.s3"]
