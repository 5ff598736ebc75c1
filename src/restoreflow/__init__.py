"""restoreflow: restore Velero-format Kubernetes backups from plans kept in git."""

__version__ = "0.1.0"
API_VERSION = "restoreflow.dev/v1alpha1"  # of restoreflow's own documents: plans, restore records
