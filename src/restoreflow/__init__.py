"""restoreflow: restore Velero-format Kubernetes backups from plans kept in git."""

__version__ = "0.1.0"
