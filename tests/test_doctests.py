"""Every ``>>>`` example in the project's docstrings runs and prints what it says.

Examples that need a database or the network are marked ``# doctest: +SKIP`` in
place; everything else is executed here."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("bubblewatch", "db", "ingest", "indicators", "alerts", "dashboard")
#: Scripts run by Streamlit or Alembic, not importable modules.
NOT_MODULES = ("dashboard.app", "dashboard.app_pages", "db.migrations", "bubblewatch.__main__")


def _modules() -> list[str]:
    names = []
    for pkg in PACKAGES:
        root = importlib.import_module(pkg)
        names.append(pkg)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{pkg}."):
            if not info.name.startswith(NOT_MODULES):
                names.append(info.name)
    return sorted(names)


def _with_examples() -> list[str]:
    finder = doctest.DocTestFinder()
    out = []
    for name in _modules():
        module = importlib.import_module(name)
        if any(t.examples for t in finder.find(module)):
            out.append(name)
    return out


@pytest.mark.parametrize("name", _with_examples())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"


def test_examples_exist() -> None:
    # the collection above is not empty by accident
    assert {"indicators.psy", "indicators.cv", "indicators.lppls"} <= set(_with_examples())
