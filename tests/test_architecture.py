"""The package's own imports form no cycle, and the layers import only downwards.

An AST walk of every module of xlmodel: each ``import`` and ``from ... import``
(at module level or inside a function) that names a module of the package is an
edge; ``from pkg import name`` is an edge to ``pkg.name`` when that is a module and
to ``pkg`` (its ``__init__``) otherwise.
"""

from __future__ import annotations

import ast
from pathlib import Path

import xlmodel

ROOT = Path(xlmodel.__file__).resolve().parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _resolve(module: str, path: Path, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, path, node.level, node.module)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in mods else base)
            for t in targets:
                # the deepest module of the package that the name refers to
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_walk_sees_imports():
    g = import_graph()
    assert "xlmodel.engine.model" in g["xlmodel.studies.sensitivity"]
    assert "xlmodel.schema" in g["xlmodel.engine.inputs"]


def test_the_cycle_finder_finds_a_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


# Each layer may import only from the layers listed for it (and from itself).
# xlmodel.lazy (modules imported on first use) and xlmodel.csvfile (a table a
# user saved as CSV, for the engine's process nodes and the studies' chips) sit
# under everything.
LAYERS = {
    "xlmodel.lazy": set(),
    "xlmodel.csvfile": {"xlmodel.lazy"},
    "xlmodel.schema": set(),
    "xlmodel.errors": set(),
    "xlmodel.engine": {"xlmodel.schema", "xlmodel.lazy", "xlmodel.csvfile"},
    "xlmodel.studies": {
        "xlmodel.schema",
        "xlmodel.errors",
        "xlmodel.engine",
        "xlmodel.lazy",
        "xlmodel.csvfile",
    },
}


def test_layers_import_only_downwards():
    bad = []
    for mod, deps in import_graph().items():
        for layer, allowed in LAYERS.items():
            if mod == layer or mod.startswith(layer + "."):
                for d in deps:
                    top = next(
                        (x for x in LAYERS if d == x or d.startswith(x + ".")), d
                    )
                    if top != layer and top not in allowed:
                        bad.append(f"{mod} imports {d}")
    assert not bad, bad


def test_only_the_grid_module_imports_openpyxl():
    users = []
    for mod, path in _modules().items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            if any(n == "openpyxl" or n.startswith("openpyxl.") for n in names):
                users.append(mod)
    assert sorted(set(users)) == ["xlmodel.workbook.grid"], users
