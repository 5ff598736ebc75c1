"""restoreflow.actions."""
