"""The registry is the one list of indicators, and its contract holds for every
one of them: typed parameters and metadata, labelled fields, a dashboard page
that exists, alert links that land on it, and loud failure for a broken module."""

from __future__ import annotations

import pkgutil
import sys
import types

import pytest

from alerts.render import dashboard_link
from bubblewatch.core.errors import ConfigError
from dashboard.pages import PAGES as DASHBOARD_PAGES
from indicators import registry
from indicators.registry import Column, Meta, Params, all_indicators


def test_every_indicator_module_is_discovered() -> None:
    import importlib

    import indicators

    declared = set()
    for info in pkgutil.iter_modules(indicators.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"indicators.{info.name}")
        declared |= {i.name for i in getattr(module, "INDICATORS", ())}
        if hasattr(module, "INDICATOR"):
            declared.add(module.INDICATOR.name)
    assert declared == {i.name for i in all_indicators()}
    assert {"psy", "psy_valuation", "lppls", "runup", "composite"} <= declared


@pytest.mark.parametrize("ind", all_indicators(), ids=lambda i: i.name)
def test_contract_of_each_indicator(ind: registry.Indicator) -> None:
    assert issubclass(ind.params, Params) and issubclass(ind.meta, Meta)
    defaults = ind.defaults
    assert ind.parse_params(registry.params_dict(defaults)) == defaults  # stored form reads back
    with pytest.raises(ConfigError, match=f"indicator '{ind.name}': no parameter 'nonsense'"):
        ind.parse_params({"nonsense": 1})
    for name, col in ind.columns.items():
        assert isinstance(col, Column) and col.label and col.unit and col.description, name
        if "_" in name:
            assert name not in col.label  # a label is words, not the machine name
    for field in ind.params.model_fields.values():
        assert field.description, f"{ind.name}: every parameter says what it does"
    slugs = {p.slug for p in DASHBOARD_PAGES}
    assert ind.page in slugs
    link = dashboard_link("http://dash.example/", ind.name, "NVDA")
    assert link.startswith(f"http://dash.example/{ind.page}?")
    for dep in ind.depends_on:
        assert registry.get(dep)
    assert ind.sampling


def test_dependencies_come_first() -> None:
    order = [i.name for i in all_indicators()]
    for ind in all_indicators():
        for dep in ind.depends_on:
            assert order.index(dep) < order.index(ind.name)


def test_unknown_indicator_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown indicator 'psyy'; known: .*psy"):
        registry.get("psyy")


def test_a_broken_indicator_module_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    import indicators

    real = pkgutil.iter_modules

    def with_broken(path=None, prefix=""):  # type: ignore[no-untyped-def]
        yield from real(path, prefix)
        if path == indicators.__path__:
            yield pkgutil.ModuleInfo(None, "broken_indicator", False)  # type: ignore[arg-type]

    broken = types.ModuleType("indicators.broken_indicator")
    monkeypatch.setitem(sys.modules, "indicators.broken_indicator", None)  # import fails
    monkeypatch.setattr(pkgutil, "iter_modules", with_broken)
    monkeypatch.setattr(registry, "_LOADED", False)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    with pytest.raises(ImportError, match="broken_indicator"):
        all_indicators()
    del broken


def test_a_second_indicator_with_the_same_name_is_refused() -> None:
    psy = registry.get("psy")
    twin = registry.Indicator(
        name="psy", title="t", description="d", columns={"x": Column("X", "count", "x")},
        params=Params, meta=Meta, keys=lambda u: [], compute=lambda c, k, p: None,  # type: ignore[arg-type, return-value]
        page="", sampling="none")
    with pytest.raises(ValueError, match="two indicators are called 'psy'"):
        registry.register(twin)
    assert registry.get("psy") is psy


def test_page_must_exist_and_fields_must_be_declared() -> None:
    with pytest.raises(ValueError, match="not a dashboard page"):
        registry.Indicator(name="x", title="t", description="d",
                           columns={"x": Column("X", "count", "x")}, params=Params, meta=Meta,
                           keys=lambda u: [], compute=lambda c, k, p: None,  # type: ignore[arg-type, return-value]
                           page="nowhere", sampling="none")
