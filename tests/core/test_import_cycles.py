"""#18 item 5: bidcart's modules import each other in one direction. A cycle makes the import order matter
(a name is missing when the other module is half-imported) and hides which module is the lower layer.

The graph is read from the source with `ast`, not by importing: an import inside a function, or under
`if TYPE_CHECKING:`, runs later or never, so it is not part of the module-level graph.
"""

from __future__ import annotations

import ast
from pathlib import Path

import bidcart

SOURCE = Path(bidcart.__file__).resolve().parent


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package), for every module under `root` but migrations."""
    found = {}
    for path in root.rglob("*.py"):
        if "migrations" in path.relative_to(root).parts:
            continue
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, package)
    return found


def _type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imported(tree: ast.Module, name: str, package: bool, *, deferred: bool) -> set[str]:
    """Every dotted name `name`'s source imports (`from a import b` gives a and a.b: b may be a module).
    Without `deferred`, only what runs when the module is imported: not inside a function, not under
    `if TYPE_CHECKING:`."""
    here = name.split(".") if package else name.split(".")[:-1]
    names = set()

    def visit(nodes):
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not deferred:
                continue
            if isinstance(node, ast.If) and _type_checking(node) and not deferred:
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = (
                    ".".join(here[: len(here) - node.level + 1] + [node.module or ""]).strip(".")
                    if node.level
                    else node.module
                )
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
            for child in ("body", "orelse", "finalbody", "handlers"):
                visit(getattr(node, child, None) or [])

    visit(tree.body)
    return names


def import_graph(root: Path = SOURCE, *, deferred: bool = False) -> dict[str, set[str]]:
    """Module → the modules under `root` that importing it runs (a module's packages included)."""
    modules = _modules(root)
    graph = {}
    for name, (path, package) in modules.items():
        targets = set()
        for dotted in _imported(ast.parse(path.read_text()), name, package, deferred=deferred):
            parts = dotted.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            # importing a.b.c runs a and a.b first: a package's own __init__ is part of the graph
            targets.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        graph[name] = {t for t in targets if t in modules and t != name and not name.startswith(t + ".")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another, directly or through others (Tarjan's strongly
    connected components with more than one module)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def connect(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
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
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def test_the_graph_sees_what_a_module_imports_at_module_level_and_not_what_it_defers():
    graph = import_graph()
    assert "bidcart.core.metrics" in graph["bidcart.core.jobs"]  # from . import metrics
    assert "bidcart.payments.providers" in graph["bidcart.payments.services"]  # from .providers import …
    assert "bidcart.core" in graph["bidcart.payments.services"]  # bidcart.core.locks: its package runs first
    assert "bidcart.payments.models" not in graph["bidcart.payments.providers.base"]  # under TYPE_CHECKING
    assert "bidcart.payments.models" in import_graph(deferred=True)["bidcart.payments.providers.base"]


def test_cycles_are_found_however_long():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_level_import_cycle_among_bidcart_modules():
    assert cycles(import_graph()) == []


def test_sweeps_and_metrics_and_the_provider_interface_and_its_http_client_import_each_other_one_way():
    # core.jobs ↔ core.metrics was cut by an import inside a function, providers.base ↔ providers.http by
    # one under TYPE_CHECKING: counting those too, neither pair is in a cycle any more.
    together = {member: tuple(group) for group in cycles(import_graph(deferred=True)) for member in group}
    for one, other in (
        ("bidcart.core.jobs", "bidcart.core.metrics"),
        ("bidcart.payments.providers.base", "bidcart.payments.providers.http"),
    ):
        assert one not in together or other not in together[one], (one, other, together[one])
