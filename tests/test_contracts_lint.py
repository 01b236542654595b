"""The contracts lint clean under Redocly CLI and Spectral (``scripts/lint-contracts``, docs/contracts-lint.md).

The tests run the script with ``--offline``: the pinned tools come from the npm cache, never from the network.
Where node/npx is missing or the tools are not cached yet (the script's exit 2 / 3) they are skipped with that
reason — except in CI (``CI=true``): ``.ci/run`` has just run the script with network, which fills the cache, so
there a missing tool fails them. The second test plants findings in a copy of the contracts (a callback without
``security``, an operation without ``description``) and requires the script to report them, one for each tool:
a lint that checks nothing cannot pass it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path("scripts") / "lint-contracts"
#: What the script needs besides the contracts themselves.
LINT_FILES = (SCRIPT, Path("redocly.yaml"), Path(".redocly.lint-ignore.yaml"), Path(".spectral.yaml"))


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """Run ``scripts/lint-contracts --offline`` of the tree at ``root``; skip (fail in CI) when it cannot run."""
    if shutil.which("npx") is None:
        result = None
        reason = "没有 npx / no npx on this machine"
    else:
        result = subprocess.run(
            [str(root / SCRIPT), "--offline"], cwd=root, capture_output=True, text=True, encoding="utf-8"
        )
        reason = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
    if result is None or result.returncode in (2, 3):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"契约检查无法运行 / the contract lint cannot run: {reason}")
        pytest.skip(f"契约检查无法离线运行 / the contract lint cannot run offline: {reason}")
    return result


def test_the_contracts_lint_clean() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name}: {old!r} must occur once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_the_lint_reports_planted_findings(tmp_path: Path) -> None:
    for rel in LINT_FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    openapi = tmp_path / "schemas" / "openapi"
    # Redocly (security-defined): the corrected-report callback loses its security requirement.
    _replace_once(
        openapi / "inspection.yaml",
        "              security:\n"
        "                - clientCredentials: ['licensing:inspection:push']\n"
        "                - bearerAuth: ['licensing:inspection:push']\n",
        "",
    )
    # Spectral (operation-description): an operation loses its description.
    text = (openapi / "supervision.yaml").read_text(encoding="utf-8")
    start = text.index("      operationId: getHealth\n")
    line = text.index("      description: ", start)
    end = text.index("\n", line) + 1
    (openapi / "supervision.yaml").write_text(text[:line] + text[end:], encoding="utf-8")

    result = _lint(tmp_path)
    out = result.stdout + result.stderr
    assert result.returncode == 1, out[-6000:]
    assert "security-defined" in out and "inspection.yaml" in out, out[-6000:]
    assert "operation-description" in out and "supervision.yaml" in out, out[-6000:]
