"""The package's layers point one way (docs/development.md draws them).

data -> models -> presets -> training -> evaluation -> config -> task -> runs ->
inference -> tune / serve / cli, with the small top-level modules (losses,
metrics, optimizers, baseline, rpeaks, delineation, files) beside them and the target kinds between
models and training. ``presets`` reads the files of the models that ship in the
package (loading one as a predictor is ``inference``'s). ``evaluation`` scores
predictions and knows nothing of runs. ``config`` holds data only: the sections
of the stages below it, no plug-in look-up. ``task`` resolves a config's
plug-ins once (the scorers among them); ``runs`` starts run folders, trains
their folds and learns their thresholds; ``inference`` is a trained run as a
classifier. Imports made only for type checking are not followed, since they
never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "ecgml"
# what each layer may import besides itself; the top-level helpers (losses, metrics,
# optimizers, baseline, rpeaks, delineation, files, the package's version) import
# nothing of ecgml but files (and baseline rpeaks and delineation)
HELPERS = {"ecgml", "files", "registries", "losses", "metrics", "optimizers", "baseline"}
HELPERS |= {"rpeaks", "delineation"}
LOWER = {
    "printout": set(),
    "data": {"printout"},
    "models": set(),
    "presets": {"models"},
    "targets": set(),
    "training": {"data", "models", "targets", "presets"},
    "evaluation": {"data", "models", "targets", "training"},
    "config": {"data", "models", "training", "presets"},
    "task": {"data", "models", "targets", "training", "evaluation", "config"},
    "runs": {"data", "models", "targets", "training", "evaluation", "config", "task"},
    "inference": {
        "data",
        "models",
        "targets",
        "training",
        "evaluation",
        "config",
        "task",
        "runs",
        "presets",
    },
    "serve": {
        "presets",
        "data",
        "models",
        "targets",
        "training",
        "evaluation",
        "config",
        "task",
        "runs",
        "inference",
        "printout",
    },
    "tune": {"data", "models", "targets", "training", "evaluation", "config", "task", "runs"},
    "cli": {
        "presets",
        "inference",
        "runs",
        "tune",
        "data",
        "models",
        "targets",
        "training",
        "evaluation",
        "serve",
        "config",
        "task",
        "printout",
    },
}
for _name in HELPERS - {"ecgml"}:
    LOWER[_name] = {"files"} if _name != "files" else set()
# the features find R peaks as the quality checks do, and delineate the waves
LOWER["baseline"] = {"files", "rpeaks", "delineation"}
UPPER = {"evaluation", "config", "task", "runs", "inference", "serve", "tune", "cli"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _runtime_imports(tree: ast.AST) -> list[ast.stmt]:
    """Import statements, anywhere in the module, except under ``if TYPE_CHECKING:``
    and in a module ``__getattr__`` (PEP 562: ``ecgml.load_preset`` resolves to the
    inference layer's function when it is asked for, and imports nothing before)."""
    found = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            return
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                wanted = [base, *(f"{base}.{a.name}" for a in node.names)]
            targets |= {owner(w) for w in wanted if w.split(".")[0] == "ecgml"} - {None, name}
        graph[name] = targets
    return graph


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ecgml"


def test_the_package_has_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles = []

    def walk(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [node])
    assert cycles == []


@pytest.mark.parametrize("layer", sorted(LOWER))
def test_a_layer_imports_only_the_layers_below_it(layer: str) -> None:
    allowed = LOWER[layer] | ({"ecgml"} if layer in HELPERS else HELPERS)
    wrong = sorted(
        f"{a} -> {b}"
        for a, targets in _graph().items()
        if _layer(a) == layer
        for b in targets
        if _layer(b) != layer and _layer(b) not in allowed
    )
    assert wrong == []


@pytest.mark.parametrize("layer", ["data", "models", "training", "targets"])
def test_lower_layers_never_import_evaluation_serve_or_cli(layer: str) -> None:
    wrong = sorted(
        f"{a} -> {b}"
        for a, targets in _graph().items()
        if _layer(a) == layer
        for b in targets
        if _layer(b) in UPPER
    )
    assert wrong == []


def test_no_module_of_the_package_or_the_benchmarks_is_over_400_lines() -> None:
    long = {
        str(path.relative_to(REPO)): n
        for path in [*PACKAGE.rglob("*.py"), *(REPO / "bench").glob("*.py")]
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert long == {}


def test_the_layers_themselves_form_an_order() -> None:
    """No two layers may import each other, directly or round a circle: the allowed
    imports above are an order, so no arrow of the drawing runs back up."""
    order: list[str] = []
    remaining = {layer: set(allowed) & set(LOWER) for layer, allowed in LOWER.items()}
    while remaining:
        ready = sorted(layer for layer, below in remaining.items() if not below - set(order))
        assert ready, f"layers that allow each other in a circle: {sorted(remaining)}"
        order += ready
        for layer in ready:
            del remaining[layer]
    assert order.index("evaluation") < order.index("task") < order.index("inference")


def test_no_function_of_the_package_is_over_80_lines() -> None:
    long = {}
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1 + len(node.decorator_list)
                if n > 80:
                    long[f"{path.relative_to(REPO)}:{node.name}"] = n
    assert long == {}


def test_no_line_is_kept_from_the_formatter() -> None:
    """Lines are not packed under the length limit by ``# fmt: skip`` or ``# fmt: off``."""
    kept = [
        f"{path.relative_to(REPO)}:{k}"
        for folder in ("ecgml", "bench", "tests")
        for path in (REPO / folder).rglob("*.py")
        for k, line in enumerate(path.read_text().splitlines(), start=1)
        if line.rstrip().endswith(("# fmt: skip", "# fmt: off"))
    ]
    assert kept == []
