"""No import circles in harness/ (#14): the graph of imports between harness modules has no cycle, and
every module imports on its own, whatever is imported first.

(a) reads every module with `ast`: imports at the top AND inside functions (an import moved into a function
    to dodge a circle still counts); only those under `if TYPE_CHECKING:` are left out, as they never run.
(b) imports each module in an interpreter that holds no harness module yet. One fresh interpreter per
    module costs its start-up and the shared third-party imports a hundred times over, so one interpreter
    that has imported only the standard library forks a child per module: each child starts with no
    harness module loaded, imports its one module, and reports.
"""

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "harness"


def module_names() -> dict[str, Path]:
    """Every harness module: dotted name -> file."""
    names = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> list[tuple[str, int]]:
    """(imported module, line) for every import that runs, at any depth; relative imports made absolute.
    `from package import submodule` imports the submodule; `known` are the modules there are."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for statement in node.orelse:
                visit(statement)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            if len(submodules) < len(node.names):  # a name from the module itself, not only its submodules
                found.append((base, node.lineno))
            found.extend((name, node.lineno) for name in submodules)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {harness module it imports: line}. `from harness.x import y` counts harness.x, and
    harness.x.y when y is a module; importing harness.x.y also runs the package harness.x, so it counts
    too, unless the importer is inside that package (its __init__ is already running then)."""
    modules = module_names()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line in _imports(tree, module, is_package, set(modules)):
            if name not in modules:
                continue
            parts = name.split(".")
            for depth in range(2, len(parts) + 1):
                target = ".".join(parts[:depth])
                inside = module == target or module.startswith(f"{target}.")
                if target in modules and target != module and (depth == len(parts) or not inside):
                    edges.setdefault(target, line)
        graph[module] = edges
    return graph


def find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    """One cycle as [a, b, ..., a], or None (iterative depth-first search, colours white/grey/black)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(step) == 1:
                return path[path.index(step) :] + [step]
            elif not state.get(step):
                state[step] = 1
                path.append(step)
                stack.append(iter(sorted(graph.get(step, {}))))
    return None


def _describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    modules = module_names()
    steps = [
        f"  {a} imports {b} ({modules[a].relative_to(ROOT)}:{graph[a][b]})"
        for a, b in zip(cycle, cycle[1:], strict=False)
    ]
    return "import circle:\n" + "\n".join(steps)


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking() -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import harness.errors
        from harness.metrics import base
        if TYPE_CHECKING:
            from harness.report import Report
        def later():
            from harness.systems.python_target import resolve
        """
    )
    known = {"harness.errors", "harness.metrics", "harness.metrics.base", "harness.systems.python_target"}
    names = [name for name, _ in _imports(ast.parse(source), "harness.example", False, known)]
    assert "harness.errors" in names and "harness.metrics.base" in names
    assert "harness.systems.python_target" in names  # the import inside a function counts
    assert "harness.report" not in names
    assert "harness.metrics" not in names  # only a submodule of it was named


def test_find_cycle_reports_the_circle() -> None:
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {}}) is None
    assert find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 3}}) == ["a", "b", "c", "a"]


def test_no_import_circle_in_harness() -> None:
    graph = import_graph()
    assert len(graph) > 50 and graph["harness.suite"]  # the walk found the package
    cycle = find_cycle(graph)
    assert cycle is None, _describe(cycle, graph)


def test_the_values_are_a_leaf() -> None:
    """harness.values imports only harness.values and the leaves below it: harness.modelref (which imports
    only harness.errors), harness.hashing and the constants of harness.retrieval_settings."""
    graph = import_graph()
    allowed = {"harness.modelref", "harness.hashing", "harness.retrieval_settings"}
    for module, edges in graph.items():
        if module.startswith("harness.values"):
            outside = {name for name in edges if not name.startswith("harness.values")} - allowed
            assert not outside, f"{module} imports {sorted(outside)}"
    assert set(graph["harness.modelref"]) == {"harness.errors"}
    for module in ("harness.hashing", "harness.retrieval_settings", "harness.errors"):
        assert not graph[module], f"{module} should import no harness module"


# Imported by the parent before it forks, so that each child does not pay for them again: the heavy
# third-party packages many modules share. No harness module is among them.
PRELOAD = ("numpy", "scipy", "pydantic", "yaml", "torch", "langchain_core.language_models.chat_models")

# The layers of docs/architecture.md, bottom first: a module may import its own layer and those below.
# A module not named here is orchestration; a new module in a lower layer is added here.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "values",
        (
            "harness.values",
            "harness.modelref",
            "harness.hashing",
            "harness.retrieval_settings",
            "harness.errors",
        ),
    ),
    (
        "services",
        (
            "harness",  # the package itself: privacy defaults
            "harness.cache",
            "harness.sources",
            "harness.suite_rows",
            "harness.references",
            "harness.files",
            "harness.stats",
            "harness.text",
            "harness.yamlfile",
            "harness.privacy",
            "harness.progress",
        ),
    ),
    ("tables", ("harness.metrics", "harness.systems", "harness.models", "harness.llm")),
    ("loaders", ("harness.suite", "harness.system")),
    ("orchestration", ()),
    ("entry", ("harness.cli", "harness.__main__", "harness.pytest_plugin")),
]


def layer_of(module: str) -> int:
    best, found = -1, 4
    for number, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or (prefix != "harness" and module.startswith(f"{prefix}."))
            if matches and len(prefix) > best:  # the longest prefix decides: harness.cli_suites is not cli
                best, found = len(prefix), number
    return found


def test_imports_point_down_the_layers() -> None:
    graph = import_graph()
    upward = [
        f"  {module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]}), "
        f"line {line}"
        for module, edges in sorted(graph.items())
        for target, line in sorted(edges.items())
        if layer_of(target) > layer_of(module)
    ]
    assert not upward, "imports that point up the layers (docs/architecture.md):\n" + "\n".join(upward)


FORK_IMPORTS = """
import importlib, os, sys, traceback
preload, names = sys.argv[1].split(","), sys.argv[2:]
for package in preload:
    try:
        importlib.import_module(package)
    except ImportError:
        pass
assert not [name for name in sys.modules if name == "harness" or name.startswith("harness.")]
failed = 0
for name in names:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            importlib.import_module(name)
            code = 0
        except BaseException:
            os.write(write, traceback.format_exc().encode()[-4000:])
            code = 1
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        text = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if status != 0:
        failed += 1
        print(f"--- {name} does not import on its own:\\n{text}", flush=True)
sys.exit(1 if failed else 0)
"""


def test_every_module_imports_on_its_own() -> None:
    names = [name for name in sorted(module_names()) if not name.endswith("__main__")]  # it runs the CLI
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", FORK_IMPORTS, ",".join(PRELOAD), *names],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
