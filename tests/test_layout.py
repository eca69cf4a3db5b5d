"""The package's layout keeps its promises: no import cycle, no hidden import, no private name borrowed.

The import graph is read from the source with ``ast`` (imports inside functions included, ``if TYPE_CHECKING``
blocks too), so a lazy import cannot hide a cycle. Each check is tried on a small hand-made graph or source
first, so a checker that finds nothing because it looks at nothing fails.
"""

from __future__ import annotations

import ast
from pathlib import Path

import verifier

PACKAGE = Path(verifier.__file__).resolve().parent


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, name: str, modules: set[str]) -> set[str]:
    """The package modules ``path`` imports anywhere in its body; ``from . import x`` counts as module ``x``."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
        for target in targets:
            while target and target not in modules and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in modules and target != name:
                found.add(target)
                break  # the longest match: `from .x import y` is module x, not also the package above it
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    paths = {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    return {name: _imports(path, name, set(paths)) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path that ends where it starts, or [] when there is none (depth-first)."""
    done: set[str] = set()
    for start in sorted(graph):
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        if start in done:
            continue
        path.append(start)
        on_path.add(start)
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                on_path.discard(node)
                done.add(node)
                continue
            nxt = todo.pop()
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in done:
                stack.append((nxt, sorted(graph.get(nxt, ()))))
                path.append(nxt)
                on_path.add(nxt)
    return []


def test_the_cycle_finder_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub.b import f\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import c\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = import_graph(pkg)
    assert graph["pkg.a"] == {"pkg.sub.b"} and graph["pkg.sub.b"] == {"pkg.c"} and graph["pkg.c"] == {"pkg.a"}
    assert find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.c", "pkg.a"]
    assert find_cycle({"x": {"y"}, "y": {"z"}, "z": set()}) == []


def test_the_package_imports_without_a_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert "verifier.tables" in graph["verifier.models"]  # the graph sees real edges
    assert "verifier.numeric" in graph["verifier.execute"]
    assert find_cycle(graph) == []


def test_the_library_never_imports_the_command_line() -> None:
    graph = import_graph(PACKAGE)
    library = [
        name for name in graph if not name.startswith(("verifier.commands", "verifier.cli", "verifier.__main__"))
    ]
    upward = {
        name: sorted(t for t in graph[name] if t.startswith(("verifier.commands", "verifier.cli"))) for name in library
    }
    assert {name: targets for name, targets in upward.items() if targets} == {}


def test_no_import_hides_behind_importlib() -> None:
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "import_module":
                hidden.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
                hidden.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert hidden == []


def _borrowed_private_names(path: Path) -> list[str]:
    """Names with a leading underscore that ``path`` imports from another module (private modules allowed)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        # `from . import _shared` names a private module of the package, which is what it is for
        if isinstance(node, ast.ImportFrom) and node.module not in (None, "__future__"):
            found += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_") and a.name[1:2] != "_"]
    return found


def test_no_private_name_is_imported_across_modules(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from .derive import _Operands\nfrom . import _validate\nfrom .x import public\n")
    assert _borrowed_private_names(probe) == ["probe.py: _Operands"]
    borrowed = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _borrowed_private_names(path)]
    assert borrowed == []


#: The longest a module may grow: split it by concept before it does (CONTRIBUTING.md).
MAX_LINES = 500


def test_no_module_is_over_500_lines(tmp_path: Path) -> None:
    def too_long(root: Path) -> dict[str, int]:
        lengths = {
            str(p.relative_to(root)): len(p.read_text(encoding="utf-8").splitlines()) for p in root.rglob("*.py")
        }
        return {name: n for name, n in sorted(lengths.items()) if n > MAX_LINES}

    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES)
    assert too_long(tmp_path) == {"long.py": MAX_LINES + 1}
    assert too_long(PACKAGE) == {}


# -- third-party private API --------------------------------------------------------------------------------
THIRD_PARTY = ("sympy", "numpy", "pytest", "_pytest", "pluggy", "mpmath")


def _private(name: str) -> bool:
    """``_x`` and ``__x`` are private; ``__x__`` is Python's own protocol, except SymPy's ``__xnew__`` family."""
    dunder = name.startswith("__") and name.endswith("__") and not name.startswith("__xnew")
    return name.startswith("_") and not dunder


def _third_party_private_uses(path: Path) -> dict[str, list[str]]:
    """Private API of a third-party package that ``path`` names: imports of private modules or names, and private
    attributes read off a name bound to a third-party module or to a name imported from one."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: dict[str, str] = {}  # local name -> third-party package it comes from
    uses: dict[str, list[str]] = {}

    def package(module: str) -> str | None:
        top = module.split(".")[0]
        return {"_pytest": "pytest"}.get(top, top) if top in THIRD_PARTY else None

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (owner := package(alias.name)) is not None:
                    bound[(alias.asname or alias.name).split(".")[0]] = owner
                    if any(_private(part) for part in alias.name.split(".")):
                        uses.setdefault(owner, []).append(f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (owner := package(node.module or "")):
            for alias in node.names:
                bound[alias.asname or alias.name] = owner
                if any(_private(part) for part in (*(node.module or "").split("."), alias.name)):
                    uses.setdefault(owner, []).append(f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            root: ast.expr = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in bound:
                uses.setdefault(bound[root.id], []).append(ast.unparse(node))
    return uses


def test_each_third_party_packages_private_api_is_used_in_one_module_only(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sympy as sp\nfrom sympy.core.mul import Mul\nfrom _pytest._io import TerminalWriter\n"
        "a = sp.Symbol.__xnew__\nb = Mul._from_args\nc = sp.Symbol.__name__\nd = sp.Symbol('x')._assumptions\n"
    )
    assert _third_party_private_uses(probe) == {
        "pytest": ["from _pytest._io import TerminalWriter"],
        "sympy": ["sp.Symbol.__xnew__", "Mul._from_args"],  # `sp.Symbol('x')._assumptions` is past a call: unseen
    }
    where: dict[str, set[str]] = {}
    for root in (PACKAGE, PACKAGE.parent / "verifier_pytest", PACKAGE.parent / "verifier_cli"):
        for path in sorted(root.rglob("*.py")):
            for owner in _third_party_private_uses(path):
                where.setdefault(owner, set()).add(path.relative_to(PACKAGE.parent).as_posix())
    # SymPy's shortcuts, each probed at import against the public constructors; pytest's report objects for
    # the proof check's failures (a failure shows its steps in colour, with no traceback)
    assert where == {"sympy": {"verifier/symbolic/_sympy_fast.py"}, "pytest": {"verifier/pytest_plugin.py"}}
