"""The packages of restoreflow import each other in one direction only (read from the source, not run).

A cycle between two top-level packages (`restore` -> `actions` -> `restore`) means neither can be
read, tested or changed alone; the test names the imports that close the loop. Imports made only
for type checking (`if TYPE_CHECKING:`) are not dependencies and are left out, and so are the
`__main__.py` entry points (`python -m restoreflow.sandbox` runs the CLI): they stand above everything.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

import restoreflow

ROOT = Path(restoreflow.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _runtime_imports(node)


def _imported(path: Path) -> Iterator[str]:
    """The restoreflow modules a file imports (anywhere in it: a late import is still a dependency)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            yield f"{base}.{node.module}" if node.module else base
        elif node.module == "restoreflow":  # `from restoreflow import codec` imports a module
            yield from (f"restoreflow.{alias.name}" for alias in node.names)
        elif node.module:
            yield node.module


def _top(module: str) -> str | None:
    """`restoreflow.restore.items` -> `restore`; `restoreflow.describe` -> `describe`."""
    parts = module.split(".")
    return parts[1] if parts[0] == "restoreflow" and len(parts) > 1 else None


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> imported package -> the files that import it."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        source = _top(_module_name(path))
        if source is None or path.name == "__main__.py":
            continue
        for target in filter(None, map(_top, _imported(path))):
            if target != source:
                graph.setdefault(source, {}).setdefault(target, set()).add(str(path.relative_to(ROOT)))
    return graph


def find_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    """One cycle of packages (first == last), or [] when the graph has none."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_cycle_between_packages() -> None:
    graph = package_graph()
    cycle = find_cycle(graph)
    closing = [f"{a} -> {b}: {', '.join(sorted(graph[a][b]))}" for a, b in itertools.pairwise(cycle)]
    assert not cycle, "packages import each other in a loop:\n" + "\n".join(closing)


def test_the_engine_and_the_toolkit_stay_below_prefect_and_the_cli() -> None:
    graph = package_graph()
    for low in ("kube", "plan", "backup", "cluster", "actions", "restore"):
        assert not {"orchestration", "cli"} & set(graph.get(low, {})), low
    assert set(graph.get("kube", {})) == set(), "kube/ imports nothing else of restoreflow"


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b": {"a.py"}}, "b": {"a": {"b.py"}}}, ["a", "b", "a"]),
        ({"a": {"b": {"a.py"}}, "b": {"c": {"b.py"}}}, []),
    ],
)
def test_a_loop_is_found(graph: dict[str, dict[str, set[str]]], cycle: list[str]) -> None:
    assert find_cycle(graph) == cycle
