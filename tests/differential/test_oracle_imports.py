"""The oracle is independent: it imports nothing from okrsync, its connectors or the sandbox."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ORACLE = ("oracle.py", "oracle_measure.py", "oracle_records.py")
FORBIDDEN = ("syncer", "connectors", "sandbox", "simple_salesforce", "hubspot", "sqlalchemy")
ALLOWED_LOCAL = {"tests.differential.oracle_measure", "tests.differential.oracle_records"}  # its own parts


def imported_modules(path: Path) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import could reach anything in the package
                modules.add("." * node.level + (node.module or ""))
            else:
                modules.add(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            modules.add("__import__")
    return modules


@pytest.mark.parametrize("name", ORACLE)
def test_oracle_imports_only_the_standard_library_and_itself(name: str) -> None:
    modules = imported_modules(HERE / name)
    assert modules, "no imports found: the parse is broken"
    bad = sorted(
        m for m in modules
        if m.startswith(".") or m == "__import__" or m.split(".")[0] in FORBIDDEN
        or (m.startswith("tests") and m not in ALLOWED_LOCAL)
    )  # fmt: skip
    assert not bad, f"{name} imports {bad}: the oracle must share no code with the product"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom syncer.rollup import scoring\nfrom . import x\n")
    assert imported_modules(probe) == {"os", "syncer.rollup", "."}
