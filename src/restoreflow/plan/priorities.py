"""Velero's restore resource priorities, including its flag form "a,b,-,c"."""

from __future__ import annotations


def parse_priorities(text: str) -> tuple[list[str], list[str]]:
    """Velero's `--restore-resource-priorities` syntax: high entries, a lone "-", low entries."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if entries.count("-") > 1:
        raise ValueError('multiple priority separator "-" found')
    if "-" not in entries:
        return entries, []
    cut = entries.index("-")
    return entries[:cut], entries[cut + 1 :]


def format_priorities(high: list[str], low: list[str]) -> str:
    """The flag form again: high, "-", low."""
    return ",".join([*high, "-", *low]) if low else ",".join(high)
