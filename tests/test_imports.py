"""The package's import structure: no import cycles, and the command line apart from the library."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "helpers"


def _modules() -> dict[str, Path]:
    out = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


MODULES = _modules()


def _imports(name: str, module_level_only: bool) -> set[str]:
    """The helpers modules ``name`` imports (at module level only, or anywhere, lazy imports included)."""
    f = MODULES[name]
    tree = ast.parse(f.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in (tree.body if module_level_only else ast.walk(tree)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = name.split(".") if f.name == "__init__.py" else name.split(".")[:-1]
                pkg = pkg[:len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES and m != name}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (c := visit(m)):
                return c
        state[n] = 2
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_no_module_level_import_cycle():
    graph = {m: _imports(m, module_level_only=True) for m in MODULES}
    assert _cycle(graph) is None


def test_data_modules_form_no_cycle_even_with_lazy_imports():
    """load reads through validate, validate through reader; none of them imports back."""
    def unit(m):  # the synthetic-city package counts as one module
        return "helpers.data.synth" if m.startswith("helpers.data.synth") else m
    graph: dict[str, set[str]] = {}
    for m in MODULES:
        if m.startswith("helpers.data"):
            graph.setdefault(unit(m), set()).update(
                unit(x) for x in _imports(m, module_level_only=False) if x.startswith("helpers.data") and unit(x) != unit(m))
    assert _cycle(graph) is None
    assert "helpers.data.load" not in graph["helpers.data.validate"]
    assert "helpers.data.validate" in graph["helpers.data.load"]


def test_library_never_imports_the_command_line():
    offenders = [m for m in MODULES if m not in ("helpers.cli", "helpers.__main__")
                 and "helpers.cli" in _imports(m, module_level_only=False)]
    assert offenders == []


def test_importing_the_validator_loads_neither_the_loader_nor_the_cli():
    code = ("import sys, helpers.data.validate, helpers.data.codebook; "
            "print(sorted(m for m in sys.modules if m in ('helpers.data.load', 'helpers.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
