"""restoreflow.cluster."""
