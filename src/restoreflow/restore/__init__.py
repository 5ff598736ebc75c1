"""restoreflow.restore."""
