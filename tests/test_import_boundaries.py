"""Import boundaries between syncer/, connectors/ and sandbox/ (docs/architecture.md, "What may import what").

Every module of the three packages is parsed (never imported) and each import is checked against
the rules below: `import x`, `from x import y` (also read as an import of `x.y`, since `y` may be a
module), relative imports resolved against the module's package, and `importlib.import_module` /
`__import__` calls with a literal name. Imports under `if TYPE_CHECKING:` count like any other,
except where an allowance says otherwise.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("syncer", "connectors", "sandbox")


@dataclass(frozen=True, slots=True)
class Rule:
    """Modules under `package/` (a top-level package or a folder below one, like `syncer/store`) may
    not import any module named in `forbidden` (or below it)."""

    package: str
    forbidden: tuple[str, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Allowance:
    """A documented exception: `path` may import `module` (or below it), `anywhere` or only `lazily`
    (inside a function body, or under `if TYPE_CHECKING:`, so nothing is loaded at import time)."""

    path: str
    module: str
    where: Literal["anywhere", "lazily"]
    why: str


@dataclass(frozen=True, slots=True)
class ImportSite:
    module: str
    line: int
    lazy: bool  # inside a function, or under `if TYPE_CHECKING:`


@dataclass(frozen=True, slots=True)
class Violation:
    path: str
    line: int
    module: str
    rule: Rule

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: imports `{self.module}` — {self.rule.text}"


RULES = (
    Rule(
        "syncer",
        ("simple_salesforce", "hubspot", "requests", "urllib3", "zeep", "sandbox"),
        "syncer/ never imports a CRM client, requests, urllib3 or sandbox; only connectors/ talk to CRMs",
    ),
    Rule(
        "connectors",
        ("syncer.store", "syncer.rollup", "syncer.cycle", "syncer.pull", "syncer.writeback", "sandbox"),
        "connectors/ never import the store, the rollup, the cycle, pull, write-back or sandbox; "
        "they know CRM facts and hand canonical records to the engine",
    ),
    Rule(
        "syncer/store",
        ("syncer.rollup",),
        "syncer/store never imports the rollup: the rollup reads the store, and the values the store "
        "keeps are in syncer/values.py, below both",
    ),
    Rule(
        "sandbox",
        ("syncer", "connectors"),
        "sandbox/ imports nothing of the product: the emulators must not depend on what they test",
    ),
)

ALLOWANCES = (
    Allowance(
        "syncer/serve/alerts.py",
        "requests",
        "anywhere",
        "webhook alerts POST a JSON body to a URL ops configure; a webhook is not a CRM, so it does "
        "not belong in a connector (docs/decisions.md D26)",
    ),
    Allowance(
        "syncer/commands/demo.py",
        "sandbox",
        "lazily",
        "`okrsync demo` starts the emulators; its command module loads them only inside its "
        "functions (and names their types for mypy only), so no other command imports them",
    ),
    Allowance(
        "syncer/commands/sandbox_command.py",
        "sandbox",
        "lazily",
        "`okrsync sandbox` runs the same emulators as the demo, for a user to try every command; "
        "loaded inside its function, like the demo's",
    ),
)


# ---------------------------------------------------------------- the checker


def module_name(path: str) -> str:
    """`syncer/store/lease.py` → `syncer.store.lease`; a package's `__init__.py` → the package."""
    parts = list(Path(path).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(path: str) -> str:
    name = module_name(path)
    return name if Path(path).name == "__init__.py" else name.rpartition(".")[0]


def _absolute(node: ast.ImportFrom, path: str) -> str:
    if not node.level:
        return node.module or ""
    base = _package_of(path).split(".")
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _dynamic_name(node: ast.Call) -> str | None:
    """The literal module name of `importlib.import_module("x")`, `import_module("x")`, `__import__("x")`."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if called not in {"import_module", "__import__"} or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


class _Imports(ast.NodeVisitor):
    """Collects every import of one module with its line and whether it runs lazily."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.sites: list[ImportSite] = []
        self._lazy = 0

    def _lazily(self, node: ast.AST) -> None:
        self._lazy += 1
        self.generic_visit(node)
        self._lazy -= 1

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._visit_function(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._visit_function(node)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:  # decorators and defaults run at import time
            self.visit(decorator)
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        self._lazy += 1
        for statement in node.body:
            self.visit(statement)
        self._lazy -= 1

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self._lazy += 1
        for statement in node.body:
            self.visit(statement)
        self._lazy -= 1
        for statement in node.orelse:
            self.visit(statement)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _absolute(node, self.path)
        self._add(base, node.lineno)
        for alias in node.names:
            if alias.name != "*":
                self._add(f"{base}.{alias.name}" if base else alias.name, node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dynamic_name(node)
        if name is not None:
            self._add(name, node.lineno)
        self.generic_visit(node)

    def _add(self, module: str, line: int) -> None:
        if module:
            self.sites.append(ImportSite(module, line, lazy=self._lazy > 0))


def import_sites(source: str, path: str) -> list[ImportSite]:
    visitor = _Imports(path)
    visitor.visit(ast.parse(source, filename=path))
    return visitor.sites


def _names(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def _allowed(path: str, site: ImportSite, allowances: Sequence[Allowance]) -> bool:
    return any(
        a.path == path and _names(site.module, a.module) and (a.where == "anywhere" or site.lazy)
        for a in allowances
    )


def _under(path: str, package: str) -> bool:
    folder = tuple(package.split("/"))
    return Path(path).parts[: len(folder)] == folder


def violations_in(
    source: str,
    path: str,
    *,
    rules: Sequence[Rule] = RULES,
    allowances: Sequence[Allowance] = ALLOWANCES,
) -> list[Violation]:
    """Every import of the module at `path` (relative to the repository root) that breaks a rule."""
    found: dict[int, Violation] = {}  # `from x import y` reads as x and x.y: one report per line
    for rule in (r for r in rules if _under(path, r.package)):
        for site in import_sites(source, path):
            if any(_names(site.module, f) for f in rule.forbidden) and not _allowed(path, site, allowances):
                found.setdefault(site.line, Violation(path, site.line, site.module, rule))
    return list(found.values())


def product_modules() -> Iterator[str]:
    """Every .py file under the three packages, as a path relative to the repository root."""
    for package in PACKAGES:
        for file in sorted((ROOT / package).rglob("*.py")):
            yield file.relative_to(ROOT).as_posix()


def _read(path: str) -> str:
    return (ROOT / path).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the product


def test_product_modules_respect_the_import_boundaries() -> None:
    violations = [v for path in product_modules() for v in violations_in(_read(path), path)]

    assert not violations, "import boundaries broken:\n" + "\n".join(str(v) for v in violations)


def test_every_package_is_scanned() -> None:
    scanned = {Path(path).parts[0] for path in product_modules()}

    assert scanned == set(PACKAGES)


@pytest.mark.parametrize("allowance", ALLOWANCES, ids=lambda a: f"{a.path}:{a.module}")
def test_each_documented_exception_is_still_used(allowance: Allowance) -> None:
    """An exception nobody needs any more is removed, so the list stays the truth."""
    assert (ROOT / allowance.path).exists(), (
        f"{allowance.path} is listed in ALLOWANCES but does not exist: move or remove the exception"
    )
    sites = import_sites(_read(allowance.path), allowance.path)

    assert any(_names(site.module, allowance.module) for site in sites), (
        f"{allowance.path} no longer imports {allowance.module}: remove its exception from ALLOWANCES"
    )


# ---------------------------------------------------------------- the checker itself


@pytest.mark.parametrize(
    ("path", "source", "module"),
    [
        ("syncer/pull.py", "import requests\n", "requests"),
        ("syncer/cycle.py", "from simple_salesforce.api import Salesforce\n", "simple_salesforce.api"),
        ("syncer/store/ledger.py", "import hubspot.crm.objects\n", "hubspot.crm.objects"),
        ("syncer/rollup/passes.py", "from urllib3.util import Retry\n", "urllib3.util"),
        ("syncer/config/models.py", "import zeep\n", "zeep"),
        ("syncer/serve/web.py", "import requests\n", "requests"),  # the webhook exception is alerts.py's only
        ("syncer/serve/scheduler.py", "from sandbox.demo import start_demo_org\n", "sandbox.demo"),
        ("syncer/commands/demo.py", "import sandbox.demo\n", "sandbox.demo"),  # module level: not lazy
        (
            "syncer/serve/web.py",
            "import importlib\n\ndef f():\n    importlib.import_module('sandbox.demo')\n",
            "sandbox.demo",
        ),
        (
            "syncer/store/snapshots.py",
            "from syncer.rollup.periods import local_bounds\n",
            "syncer.rollup.periods",
        ),
        ("connectors/hubspot/write.py", "from syncer.store import ledger\n", "syncer.store"),
        ("connectors/salesforce/soql.py", "from syncer import rollup\n", "syncer.rollup"),
        ("connectors/__init__.py", "import syncer.cycle\n", "syncer.cycle"),
        ("connectors/hubspot/mapping.py", "from syncer.pull import store_page\n", "syncer.pull"),
        ("connectors/salesforce/write.py", "import syncer.writeback as wb\n", "syncer.writeback"),
        ("connectors/salesforce/client.py", "def f():\n    from sandbox import tls\n", "sandbox"),
        ("sandbox/hubspot/server.py", "from syncer.records import Deal\n", "syncer.records"),
        ("sandbox/demo.py", "import connectors\n", "connectors"),
        (
            "sandbox/tls.py",
            "if True:\n    from connectors.salesforce import client\n",
            "connectors.salesforce",
        ),
    ],
)
def test_checker_reports_a_forbidden_import_with_file_line_and_rule(
    path: str, source: str, module: str
) -> None:
    source = '"""A synthetic module."""\n\nfrom __future__ import annotations\n\n' + source
    line = 5 + next(i for i, text in enumerate(source.splitlines()[4:]) if module.split(".")[0] in text)

    violations = violations_in(source, path)

    package = "syncer/store" if module.startswith("syncer.rollup.") else path.split("/")[0]
    assert [(v.path, v.line, v.module, v.rule.package) for v in violations] == [(path, line, module, package)]
    assert str(violations[0]).startswith(f"{path}:{line}: imports `{module}` — {violations[0].rule.text}")


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("syncer/serve/alerts.py", "import requests\n"),  # documented: webhooks
        (
            "syncer/commands/demo.py",
            "def demo():\n    from sandbox.demo import start_demo_org\n",
        ),  # lazy, documented
        (
            "syncer/commands/demo.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sandbox.demo import DemoOrg\n",
        ),
        ("syncer/commands/crm.py", "from connectors import open_connector\n"),  # where connectors come in
        (
            "syncer/pull.py",
            "import requests_toolbelt_like\nfrom syncer.store import cursors\n",
        ),  # a prefix is not a match
        (
            "connectors/hubspot/client.py",
            "import hubspot\nimport urllib3\nfrom syncer.retry import crm_calls\n",
        ),
        (
            "connectors/salesforce/__init__.py",
            "from syncer.contract import Page\nfrom syncer.records import Deal\n",
        ),
        ("connectors/salesforce/x.py", "from syncer.storefront import thing\n"),  # not syncer.store
        ("connectors/salesforce/mapping.py", "from . import soql\nfrom .currency import to_amount\n"),
        ("sandbox/hubspot/server.py", "from ..http_server import serve\nfrom sandbox.tls import make_ca\n"),
    ],
)
def test_checker_lets_allowed_imports_through(path: str, source: str) -> None:
    assert violations_in(source, path) == []


def test_checker_resolves_relative_imports_against_the_package() -> None:
    sites = import_sites("from ..store import ledger\nfrom . import passes\n", "syncer/rollup/measure.py")

    assert [s.module for s in sites] == [
        "syncer.store",
        "syncer.store.ledger",
        "syncer.rollup",
        "syncer.rollup.passes",
    ]


def test_relative_import_across_a_boundary_is_caught() -> None:
    violations = violations_in("from ...syncer.store import ledger\n", "connectors/hubspot/x.py")

    # Three dots from connectors/hubspot/ climb above the repository's packages: nothing to resolve
    # there, so the import reads as `syncer.store` — still forbidden.
    assert [v.module for v in violations] == ["syncer.store"]


def test_lazy_allowance_does_not_cover_module_level_imports() -> None:
    at_top = violations_in("from sandbox.demo import DemoOrg\n", "syncer/commands/demo.py")
    in_function = violations_in("def demo() -> None:\n    import sandbox.demo\n", "syncer/commands/demo.py")
    in_default = violations_in(
        "def demo(x=__import__('sandbox')) -> None:\n    pass\n", "syncer/commands/demo.py"
    )

    assert [v.line for v in at_top] == [1]
    assert in_function == []
    assert [v.module for v in in_default] == ["sandbox"]  # a default value runs at import time


def test_violations_name_each_offending_line_once() -> None:
    source = "import requests\nfrom hubspot import HubSpot, crm\n\n\ndef f():\n    import sandbox\n"

    violations = violations_in(source, "syncer/store/runs.py")

    assert [str(v).split(" — ")[0] for v in violations] == [
        "syncer/store/runs.py:1: imports `requests`",
        "syncer/store/runs.py:2: imports `hubspot`",
        "syncer/store/runs.py:6: imports `sandbox`",
    ]
