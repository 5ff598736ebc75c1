"""Kubernetes formats and rules, each in one place: durations, names, selectors, patches, field paths, GVRs.

Neutral ground: the plan, the engine, the actions and the sandbox all import from here, and this
package imports nothing else of restoreflow.
"""
