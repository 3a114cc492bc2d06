"""The code's own rules, checked with the project's tools on every test run:
imports point down the floors (import-linter contracts in ``pyproject.toml``)
and ruff finds nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

BIN = Path(sys.executable).parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / tool), *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_imports_point_down_and_never_circle() -> None:
    out = _run("lint-imports")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "Layers import downward only KEPT" in out.stdout
    assert "No import circles between modules of a package KEPT" in out.stdout


def test_ruff_finds_nothing() -> None:
    out = _run("ruff", "check", "--no-cache", ".")
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
