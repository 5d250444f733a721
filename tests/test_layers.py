"""The library's layers point down only (ARCHITECTURE.md): every ``premeta`` import of every module,
at its top or inside a function, goes to its own layer or one below, never in a cycle, and never
takes a private name from another module (shared internals live in ``premeta._shared``)."""

import ast
import pkgutil
from pathlib import Path

import premeta

SRC = Path(premeta.__file__).parent
#: Layer of each module (a package's modules are in their package's layer), bottom first.
LAYERS = {
    "core": ["errors", "deprecation", "distributions", "vocabulary", "_shared", "models", "tables", "settings"],
    "input": ["files", "convert", "rob", "sheet", "pairing", "effects", "flags", "syrf"],
    "methods": ["multilevel", "robumeta", "regression", "bias", "selection", "significance", "sensitivity", "planning",
                "contrasts"],
    "per-group tables": ["groups"],
    "figures": ["plots"],
    "report": ["report"],
    "interface": ["cli"],
}
RANK = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
MODULES = sorted(m.name for m in pkgutil.walk_packages(premeta.__path__, "premeta."))


def layer(name: str) -> int:
    return RANK[name.split(".")[1]]


def imports(name: str) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every ``premeta`` import in module ``name``."""
    path = SRC.joinpath(*name.split(".")[1:])
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("premeta"):
            names = [a.name for a in node.names]
            if node.module == "premeta":  # from premeta import distributions as dist
                out += [(f"premeta.{n}", []) for n in names]
            else:
                out.append((node.module, names))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names if a.name.startswith("premeta.")]
    return out


def graph() -> dict[str, set[str]]:
    return {m: {target for target, _ in imports(m) if target in MODULES and target != m} for m in MODULES}


def test_every_module_has_a_layer():
    assert {m.split(".")[1] for m in MODULES} == set(RANK)


def test_imports_point_down_or_within_a_layer():
    up = [f"{m} ({list(LAYERS)[layer(m)]}) imports {t} ({list(LAYERS)[layer(t)]})"
          for m, targets in graph().items() for t in targets if layer(t) > layer(m)]
    assert up == []


def test_the_import_graph_has_no_cycle():
    g, done, stack = graph(), set(), []

    def visit(m):
        if m in stack:
            raise AssertionError("cycle: " + " -> ".join(stack[stack.index(m):] + [m]))
        if m not in done:
            stack.append(m)
            for t in sorted(g[m]):
                visit(t)
            stack.pop()
            done.add(m)

    for m in MODULES:
        visit(m)


def test_no_private_name_crosses_a_module():
    private = [f"{m}: from {target} import {n}" for m in MODULES for target, names in imports(m)
               for n in names if n.startswith("_") and target != "premeta._shared"]
    assert private == []
