"""restoreflow.backup."""
