"""The folders of ``conformance/`` are its layers, and the imports keep to them (docs/design.md, "Layers").

Read from the source (:mod:`imports_graph`, function-local imports included, ``TYPE_CHECKING`` imports left
out): a module imports only from its own folder, a lower layer, or a pair this file allows by name; there is no
import cycle; nothing outside the suites imports a suite module, and nothing imports a test module or a conftest.
"""

from __future__ import annotations

from pathlib import Path

from tests import imports_graph as graph

#: The layers, lowest first. A unit is a top-level module or folder of conformance/.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"conformance", "i18n", "crypto", "clock"}),  # the package's face, user text, digests, UTC+8
    frozenset({"contract"}),  # the only reader of schemas/ and fixtures/
    frozenset({"codes"}),  # the identifier library
    frozenset({"check"}),  # judge an instance against the contract
    frozenset({"datagen", "audit"}),  # valid records from the contract and the codes; the data audit over dumps
    frozenset({"client"}),  # the bounded HTTP client and its evidence (the reference's outbox sends through it)
    frozenset({"report", "serving"}),  # verdicts and report files; the contract-server kernel
    frozenset({"binding"}),  # a vendor's dialect of the contracts, translated at the edge
    frozenset({"harness"}),  # target file, preflight, run guard, pytest plugin, runner
    frozenset({"reference", "simulators", "suites", "fuzz", "load"}),  # what plays a role or judges one
    frozenset({"selfcheck"}),  # the reference against the suites: self-check, kill matrix, coverage
    frozenset({"cli"}),
)

#: Imports between units of one layer, allowed by name.
SIDEWAYS = frozenset({("suites", "simulators"), ("suites", "fuzz"), ("datagen", "audit")})

#: Imports the order would allow but the design forbids: the reference server knows nothing of the harness.
FORBIDDEN = frozenset({("reference", "harness"), ("simulators", "reference")})


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def level(name: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {unit(m) for m in graph.modules()}
    placed = set().union(*LAYERS)
    assert units <= placed, f"units with no layer (add them to LAYERS and docs/design.md): {sorted(units - placed)}"
    assert not placed - units, f"layers name units that do not exist: {sorted(placed - units)}"


def test_imports_keep_to_the_layers() -> None:
    wrong = []
    for module, targets in graph.edges().items():
        for target, line in targets:
            a, b = unit(module), unit(target)
            if a == b:
                continue
            against = level(b) > level(a) or (level(b) == level(a) and (a, b) not in SIDEWAYS)
            if against or (a, b) in FORBIDDEN:
                wrong.append(f"{module}:{line} imports {target} ({a} → {b})")
    assert not wrong, "imports against the layers:\n" + "\n".join(sorted(wrong))


def test_there_is_no_import_cycle() -> None:
    edges = {m: {t for t, _ in ts} for m, ts in graph.edges().items()}
    found = graph.cycles(edges)
    assert not found, "import cycles:\n" + "\n".join(" → ".join(c) for c in found)


def test_nothing_outside_the_suites_imports_a_suite_module() -> None:
    wrong = [
        f"{m}:{line} imports {t}"
        for m, ts in graph.edges().items()
        for t, line in ts
        if unit(t) == "suites" and unit(m) != "suites"
    ]
    root = graph.PACKAGE.parent
    for path in sorted((root / "loadtests").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "conformance.suites" in text:
            wrong.append(f"{path.relative_to(root)} imports conformance.suites")
    assert not wrong, "\n".join(wrong)


def test_nothing_imports_a_test_module_or_a_conftest() -> None:
    wrong = [
        f"{m}:{line} imports {t}"
        for m, ts in graph.edges().items()
        for t, line in ts
        if Path(*t.split(".")).name.startswith("test_") or t.endswith(".conftest")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_graph_reader_sees_imports_of_every_kind(tmp_path: Path) -> None:
    """The reader the tests above rely on: top-level, function-local, relative imports count; TYPE_CHECKING ones don't."""
    import ast

    src = (
        "from __future__ import annotations\nfrom typing import TYPE_CHECKING\nimport conformance.a\n"
        "if TYPE_CHECKING:\n    import conformance.b\nelse:\n    import conformance.c\n"
        "def f():\n    from conformance import d\n    from .e import x\n"
    )
    found = {t for t, _ in graph._imports(ast.parse(src), "conformance.pkg.mod", False)}
    assert {"conformance.a", "conformance.c", "conformance.d", "conformance.pkg.e"} <= found
    assert "conformance.b" not in found
