"""restoreflow.sandbox."""
