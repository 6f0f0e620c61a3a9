"""The package's mechanical limits (issue 15): few top-level modules, short files, no import cycles.

The layer contracts themselves are in ``.importlinter`` and checked by ``lint-imports`` (``make lint``,
``.ci/run``); :func:`test_import_contracts_hold` runs it here too, so ``make test`` fails when a layer
is crossed. Import-linter (through grimp) sees imports inside functions too (checked: a lazy
``from seqlab.data.readers import lines`` inside a function of ``models/pooling.py`` breaks the
models contract), so the "no well-kept tool counts function-level imports" premise of the issue does not hold
for it. The cycle test below walks every module's AST as well, independent of the tool and its
version, and names the modules of a cycle, a function-level import included.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "seqlab"
MAX_TOP_LEVEL_MODULES = 6  # besides __init__ and __main__; packages do not count
MAX_FILE_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(path: Path, name: str, known: set[str]) -> set[str]:
    """Every seqlab module ``path`` imports, at any depth of the AST (functions, methods, branches
    included). ``from seqlab.x import y`` counts as importing ``seqlab.x.y`` when that is a module,
    else ``seqlab.x``; relative imports are resolved against ``name``."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return {m for m in found if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = package_modules()
    known = set(modules)
    return {name: imported_modules(path, name, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None. Importing a package runs its
    ``__init__``, so an edge to ``seqlab.x.y`` is also an edge to ``seqlab.x`` — except from inside
    ``seqlab.x`` itself, which Python has already started importing."""
    edges: dict[str, set[str]] = {}
    for importer, targets in graph.items():
        out = set(targets)
        for target in targets:
            parts = target.split(".")
            for i in range(2, len(parts)):
                parent = ".".join(parts[:i])
                if parent in graph and not importer.startswith(parent + ".") and importer != parent:
                    out.add(parent)
        edges[importer] = out - {importer}
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(edges[node]):
            if colour[nxt] == grey:
                return stack[stack.index(nxt) :] + [nxt]
            if colour[nxt] == white and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        colour[node] = black
        return None

    for start in sorted(edges):
        if colour[start] == white and (cycle := visit(start)):
            return cycle
    return None


def test_the_cycle_finder_sees_function_level_imports(tmp_path: Path) -> None:
    """The finder can fail: a cycle closed inside a function is found."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg import b\n")
    (pkg / "b.py").write_text("def f():\n    from pkg.a import thing\n    return thing\n")
    known = {"pkg", "pkg.a", "pkg.b"}
    graph = {
        "pkg": set(),
        "pkg.a": imported_modules(pkg / "a.py", "pkg.a", known),
        "pkg.b": imported_modules(pkg / "b.py", "pkg.b", known),
    }
    assert find_cycle(graph) in (["pkg.a", "pkg.b", "pkg.a"], ["pkg.b", "pkg.a", "pkg.b"])


def test_no_import_cycle_between_package_modules() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle (imports inside functions count): " + " -> ".join(cycle or [])


def test_at_most_six_top_level_modules() -> None:
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "__main__"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, f"{len(top)} top-level modules: {', '.join(top)}"


def test_no_package_file_over_500_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in sorted(PACKAGE.rglob("*.py"))
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FILE_LINES
    }
    assert not long, f"files over {MAX_FILE_LINES} lines: {long}"


def test_import_contracts_hold() -> None:
    """``lint-imports`` with the repository's ``.importlinter``: the layers and forbidden imports."""
    if shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


MAX_FUNCTION_LINES = 60
LONG_REASON = "Over 60 lines because"


def long_functions(path: Path) -> list[tuple[str, int, bool]]:
    """(name, lines, says why) of each function in ``path`` over :data:`MAX_FUNCTION_LINES` lines
    (signature, docstring and body), methods and nested functions included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append((node.name, lines, LONG_REASON in (ast.get_docstring(node) or "")))
    return found


def test_the_long_function_finder_can_fail(tmp_path: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(70))
    (tmp_path / "m.py").write_text(f'def f():\n    """Short."""\n{body}\ndef g():\n    return 1\n')
    assert long_functions(tmp_path / "m.py") == [("f", 72, False)]


def test_no_function_over_60_lines_unless_its_docstring_says_why() -> None:
    silent = {
        f"{p.relative_to(ROOT)}:{name} ({lines} lines)"
        for p in sorted(PACKAGE.rglob("*.py"))
        for name, lines, says_why in long_functions(p)
        if not says_why
    }
    assert not silent, f"functions over {MAX_FUNCTION_LINES} lines without '{LONG_REASON} ...': {silent}"
