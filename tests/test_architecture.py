"""ARCHITECTURE.md is kept true: its layer table against every import of the package, its API tables against
``credit_ledger.__all__`` and the ``Ledger``'s methods, its event table against the event classes, its defaults
against ``Policy()``, and its code tables against every code the package emits.

The import map is read from the source (every ``import`` of the package, at module level or inside a function;
imports under ``if TYPE_CHECKING:`` never run and are not counted). A module may import its own layer or a lower
one, with no cycle.
"""

from __future__ import annotations

import ast
import re
from decimal import Decimal
from pathlib import Path

import pytest

import credit_ledger as cl
from credit_ledger.models import EVENT_CLASSES, KIND_RANK

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "credit_ledger"
DOC = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")


def section(title: str, until: str = "\n## ") -> str:
    """The text of a section of ARCHITECTURE.md, from its heading to the next heading of the same level."""
    start = DOC.index(title)
    end = DOC.find(until, start + len(title))
    return DOC[start:end if end >= 0 else None]


def table_rows(text: str) -> list[list[str]]:
    """The body rows of the markdown tables in ``text``, as lists of cells."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= {"|", "-", " "}:
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return [r for r in rows if not r[0] in ("layer", "rank", "name", "method", "field", "code", "section")]


def ticked(cell: str) -> list[str]:
    """The `code` spans of a cell."""
    return re.findall(r"`([^`]+)`", cell)


# -- layers ----------------------------------------------------------------------------------------------------------


def layer_table() -> dict[str, int]:
    out = {}
    for row in table_rows(section("## Layers")):
        layer = int(row[0].split()[0])
        for name in ticked(row[1]):
            out[name] = layer
    return out


def package_modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            found[".".join(parts)] = path
    return found


def imports_of(module: str, path: Path, modules: set[str]) -> set[str]:
    """The package modules ``module`` imports when it runs."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    is_package = path.name == "__init__.py"
    here = module.split(".") if is_package else module.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[:len(here) - (node.level - 1)] if node.level > 1 else here
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("credit_ledger"):
                target = (node.module or "")[len("credit_ledger."):]
            else:
                continue
            names = [f"{target}.{a.name}" if target else a.name for a in node.names] + [target]
        elif isinstance(node, ast.Import):
            names = [a.name[len("credit_ledger."):] for a in node.names if a.name.startswith("credit_ledger.")]
        for name in names:
            while name and name not in modules and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in modules and name != module:
                found.add(name)
    return found


def import_map() -> dict[str, set[str]]:
    modules = package_modules()
    return {m: imports_of(m, p, set(modules)) for m, p in modules.items()}


def test_every_module_has_a_layer():
    layers = layer_table()
    missing = sorted(set(package_modules()) - set(layers))
    extra = sorted(set(layers) - set(package_modules()))
    assert not missing, f"modules missing from ARCHITECTURE.md's layer table: {missing}"
    assert not extra, f"ARCHITECTURE.md's layer table names modules that do not exist: {extra}"


def test_no_import_runs_back_up():
    layers = layer_table()
    upward = sorted(f"{a} (layer {layers[a]}) imports {b} (layer {layers[b]})"
                    for a, targets in import_map().items() for b in targets
                    if a in layers and b in layers and layers[b] > layers[a])
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_loops():
    assert cycles(import_map()) == []


def test_the_cycle_finder_finds_a_loop():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_rules_import_nothing_of_storage_or_the_facade():
    layers = layer_table()
    rules = [m for m, layer in layers.items() if layer <= 2]
    graph = import_map()
    for module in rules:
        assert not {b for b in graph[module] if layers.get(b, 0) >= 3}, module


def test_the_import_reader_sees_function_level_imports(tmp_path):
    source = tmp_path / "m.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import X\n"
                      "def f():\n    from .c import Y\n    from . import d\n", encoding="utf-8")
    assert imports_of("m", source, {"b", "c", "d", "m"}) == {"c", "d"}


def test_no_module_is_too_big():
    """Every module of the package is at most about 600 lines (the faces of their concerns, and the rest): past 700
    a module holds more than one concern."""
    big = {m: n for m, p in package_modules().items()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700}
    assert not big, big


# -- the public API --------------------------------------------------------------------------------------------------


def test_api_table_is_the_public_api():
    names = {n for row in table_rows(section("## The public API", "\nThe `Ledger`:")) for n in ticked(row[0])}
    assert names == set(cl.__all__), (sorted(names - set(cl.__all__)), sorted(set(cl.__all__) - names))


def test_ledger_table_is_the_ledgers_methods():
    text = section("\nThe `Ledger`:", "\nModules schools import")
    documented = {re.match(r"[a-z_]+", t).group(0) for row in table_rows(text) for t in ticked(row[0])
                  if t[0].isalpha()}
    public = {n for n in dir(cl.Ledger) if not n.startswith("_")}
    assert documented == public, (sorted(documented - public), sorted(public - documented))


# -- events, defaults ------------------------------------------------------------------------------------------------


def test_event_table_is_the_event_kinds():
    rows = table_rows(section("## Events"))
    table = {ticked(r[1])[0]: (int(r[0]), ticked(r[2])[0]) for r in rows}
    actual = {kind: (KIND_RANK[kind], cls.__name__) for kind, cls in EVENT_CLASSES.items()}
    assert table == actual


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def test_defaults_table_is_policy():
    rows = table_rows(section("## Rule defaults"))
    table = {ticked(r[0])[0]: r[1] for r in rows}
    actual = {name: _shown(field.default) for name, field in cl.Policy.model_fields.items()}
    assert table == actual


# -- codes -----------------------------------------------------------------------------------------------------------

CODE = re.compile(r"^[a-z]+(?:_[a-z]+)+$")

FAMILIES = {
    "refusals": ("### Refusals", {"checks", "ledger", "access", "contexts", "batch"}),
    "decisions": ("### Decisions", {"transfer", "caps", "conversion", "statements"}),
    "audit issues": ("### Audit issues", {"graduation", "window", "requirements", "reports"}),
    "import problems": ("### Import problems", {"imports"}),
    "plan issues": ("### Plan issues", {"planner"}),
}

# helpers that take a code as a positional argument: name -> position
CODE_ARGUMENT = {"_issue": 0, "issue": 0, "_refuse": 1, "cut": 2, "_check_target_event": 3, "_problem": 0}


def emitted_codes(path: Path) -> set[str]:
    """Codes a module emits: ``code="..."`` keywords, the code argument of its code-taking helpers, and a
    ``("code", message)`` pair returned as a reason."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                    found.add(kw.value.value)
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            at = CODE_ARGUMENT.get(name or "")
            if at is not None and len(node.args) > at:
                arg = node.args[at]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and CODE.match(arg.value):
                    found.add(arg.value)
        elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
            first = node.value.elts[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and CODE.match(first.value):
                found.add(first.value)
    return found


def documented_codes(heading: str) -> set[str]:
    text = DOC[DOC.index(heading):]
    end = text.find("\n### ", 1)
    return {c for row in table_rows(text[:end if end > 0 else None]) for c in ticked(row[0])}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_code_tables_are_complete(family):
    """Every code a family's modules emit is in ARCHITECTURE.md (in its own table, or another family's when it is
    the same rule: ``unknown_program`` is raised by an audit as by a write), and every code of the table is emitted
    somewhere in the package."""
    heading, owners = FAMILIES[family]
    documented = documented_codes(heading)
    everywhere = set().union(*(documented_codes(h) for h, _ in FAMILIES.values()))
    modules = package_modules()
    emitted = set().union(*(emitted_codes(modules[m]) for m in owners if m in modules))
    assert emitted <= everywhere, f"{family}: codes emitted but not in ARCHITECTURE.md: {sorted(emitted - everywhere)}"
    assert emitted - documented <= documented_codes("### Refusals"), sorted(emitted - documented)
    source = "\n".join(p.read_text(encoding="utf-8") for p in modules.values())
    never = sorted(c for c in documented if f'"{c}"' not in source)
    assert not never, f"{family}: codes in ARCHITECTURE.md that the package never emits: {never}"
