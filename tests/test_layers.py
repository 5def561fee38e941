"""marslib's layers: every module imports only its own layer or the layers below it, no import
cycle exists, and the cheap entry points (the command line's help, listing experiments, reading
a record) import no TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import marslib

PACKAGE = Path(marslib.__file__).resolve().parent
# Bottom to top: a module may import its own layer and those before it, never one after it.
LAYERS: tuple[str, ...] = (
    "core",
    "data",
    "augment",
    "models",
    "losses",
    "metrics",
    "datasets",
    "training",
    "evaluation",
    "analysis",
    "bench",
    "figures",
    "commands",
    "cli",
)
TOP_LEVEL = {"__init__": "core", "__main__": "cli", "cli": "cli"}  # files directly in marslib/


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of marslib by dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, known: set[str]) -> set[str]:
    """The marslib modules a file imports, anywhere in it (`from marslib.x import y` counts as
    marslib.x.y where that is a module, else as marslib.x)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "marslib"}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.split(".")[0] == "marslib"
        ):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
    return found


def layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "core"
    return TOP_LEVEL.get(parts[1], parts[1])


def graph() -> dict[str, set[str]]:
    """Module -> the marslib modules it imports (itself excluded)."""
    found = modules()
    return {name: imported(path, set(found)) - {name} for name, path in found.items()}


def upward_imports(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """The (importer, imported) pairs where a lower layer imports a higher one."""
    rank = {name: position for position, name in enumerate(LAYERS)}
    return sorted(
        (a, b) for a, targets in edges.items() for b in targets if rank[layer(b)] > rank[layer(a)]
    )


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_every_module_lives_in_a_known_layer() -> None:
    unknown = sorted({layer(name) for name in modules()} - set(LAYERS))
    assert not unknown, f"folders or modules outside the layers {LAYERS}: {unknown}"


def test_no_layer_imports_a_higher_one() -> None:
    assert upward_imports(graph()) == []


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    made_up = {
        "marslib.data.stats": {"marslib.data.cleaning"},
        "marslib.data.cleaning": {"marslib.training.loop"},
        "marslib.training.loop": {"marslib.data.stats"},
    }
    assert cycles(made_up) == [sorted(made_up)]
    assert upward_imports(made_up) == [("marslib.data.cleaning", "marslib.training.loop")]


@pytest.mark.parametrize(
    "code",
    [
        "from marslib import cli\ncli.build_parser().format_help()",
        "from marslib import cli\ncli.main(['experiments', 'list', '--profile', 'quick'])",
        "from marslib import cli\ncli.main(['experiments', 'references'])",
        "from marslib import training\nconfig = training.get('final', 'quick').to_dict()\n"
        "training.Experiment.from_dict(config)",
    ],
    ids=["help", "experiments-list", "references-table", "read-a-config"],
)
def test_cheap_entry_points_import_no_tensorflow(code: str) -> None:
    script = "import sys, contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
    script += "".join(f"    {line}\n" for line in code.splitlines())
    script += "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["False", "False"], found.stderr[-2000:]
