"""Fixtures for the dashboard tests: the computed database with real
indicator results (see :mod:`tests.dashboard.testdata`), an empty one, and
helpers to run the app with :class:`streamlit.testing.v1.AppTest` and read
back what its download buttons serve."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dashboard.pages import PAGES as DASHBOARD_PAGES

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
#: Test name of each page -> its script (from the dashboard's own page list).
PAGES = {(p.slug or "overview"): p.script for p in DASHBOARD_PAGES}


def _copy_sqlite(src_url: str, dst: Path) -> str:
    src = src_url.removeprefix("sqlite:///")
    with sqlite3.connect(src) as s_conn, sqlite3.connect(dst) as d_conn:
        s_conn.backup(d_conn)
    return f"sqlite:///{dst}"


@pytest.fixture(scope="session")
def dashboard_db(computed_db_url: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[str, dict[str, Any]]:
    """(url, facts): a private copy of the computed database (real indicator
    results) plus alert rows; ``facts`` are the stored values the pages must show."""
    from db.session import get_engine
    from tests.dashboard.testdata import expected_facts, store_alerts

    url = _copy_sqlite(computed_db_url, tmp_path_factory.mktemp("dash") / "dashboard.sqlite")
    store_alerts(url)
    facts = expected_facts(url)
    get_engine(url).dispose()
    return url, facts


@pytest.fixture(scope="session")
def empty_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database migrated to head with nothing in it."""
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('dash-empty') / 'empty.sqlite'}"
    upgrade(url)
    return url


@pytest.fixture()
def use_db(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Point the app at a database URL (fresh settings and query caches)."""
    from bubblewatch.core.settings import get_settings

    def point(url: str) -> None:
        # query caches are keyed by URL and the test databases never change
        # after set-up, so they are kept across tests; settings are re-read
        monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", url)
        get_settings.cache_clear()

    yield point
    get_settings.cache_clear()


@pytest.fixture()
def app(use_db: Callable[[str], None], dashboard_db: tuple[str, dict[str, Any]]
        ) -> Callable[..., Any]:
    """``app(page, **query_params)``: an AppTest of the dashboard on the seeded
    database, switched to ``page`` and run."""
    from streamlit.testing.v1 import AppTest

    use_db(dashboard_db[0])

    def open_page(page: str = "overview", **query: str) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if page != "overview" or query:
            at.query_params.update(query)
            at.switch_page(PAGES[page]).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return open_page


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], bytes]:
    """``downloads(button)``: the bytes an AppTest download button serves.

    AppTest keeps served files in an in-memory media store that it drops
    after each run; this records the stores so the files can be read back.
    """
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
    from streamlit.testing.v1 import app_test

    stores: list[MemoryMediaFileStorage] = []

    class Recording(MemoryMediaFileStorage):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            stores.append(self)

    monkeypatch.setattr(app_test, "MemoryMediaFileStorage", Recording)

    def read(button: Any) -> bytes:
        name = button.proto.url.rsplit("/", 1)[-1]
        for store in reversed(stores):
            try:
                return bytes(store.get_file(name).content)
            except Exception:  # noqa: BLE001, S112 - not in this run's store
                continue
        raise AssertionError(f"download {button.proto.url} was not served")

    return read


def chart_specs(at: Any) -> list[dict[str, Any]]:
    """The plotly figures (as JSON dicts) an AppTest run rendered."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def values(v: Any) -> np.ndarray:
    """A trace's data array from plotly JSON: a list, or a typed array
    ``{"dtype": "f8", "bdata": <base64>}`` as plotly >= 6 writes them."""
    if isinstance(v, dict) and "bdata" in v:
        arr = np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
        return arr.reshape(v["shape"]) if "shape" in v and isinstance(v["shape"], list) else arr
    return np.asarray(v)


def chart_titles(at: Any) -> list[str]:
    """Chart titles as read (the line breaks that fit them on a phone removed)."""
    out = []
    for spec in chart_specs(at):
        title = spec.get("layout", {}).get("title") or {}
        text = title.get("text", "") if isinstance(title, dict) else str(title)
        out.append(text.replace("<br>", " "))
    return out


def page_text(at: Any) -> str:
    """All visible text of a run: titles, markdown, captions, alerts, metrics."""
    parts: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def _chart_words(spec: dict[str, Any]) -> list[str]:
    """What a plotly figure shows in words: titles, axis titles, trace names,
    annotations and category labels."""
    out: list[str] = []
    layout = spec.get("layout", {})
    for v in layout.values():
        if isinstance(v, dict):
            t = v.get("title")
            out.append(t.get("text", "") if isinstance(t, dict) else str(t or ""))
            out += [str(x) for x in v.get("ticktext") or []]
    t = layout.get("title")
    out.append(t.get("text", "") if isinstance(t, dict) else str(t or ""))
    out += [a.get("text", "") for a in layout.get("annotations", []) or []]
    for tr in spec.get("data", []):
        out.append(str(tr.get("name") or ""))
        for axis in ("x", "y"):
            vals = tr.get(axis)
            if isinstance(vals, list) and vals and all(isinstance(v, str) for v in vals):
                out += vals
        title = tr.get("title")
        if isinstance(title, dict):
            out.append(str(title.get("text") or ""))
    return [o for o in out if o]


def visible_text(at: Any) -> dict[str, list[str]]:
    """Everything a reader sees on a run, by where it is: text elements,
    metrics (label, value, help), widgets (labels and options), expanders,
    download buttons, table headers and cells, and the words of every chart."""
    seen: dict[str, list[str]] = {"text": [], "metric": [], "widget": [], "table header": [],
                                  "table cell": [], "chart": []}
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):
        seen["text"] += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:
        seen["metric"] += [m.label, str(m.value), m.proto.help, m.proto.body]
    for kind in ("selectbox", "multiselect", "radio", "button_group", "slider",
                 "date_input", "checkbox", "button", "expander"):
        for w in at.get(kind):
            seen["widget"].append(str(getattr(w.proto, "label", "")))
            seen["widget"].append(str(getattr(w.proto, "help", "")))
            opts = getattr(w.proto, "options", [])
            seen["widget"] += [o if isinstance(o, str) else getattr(o, "content", "")
                               for o in opts]
    seen["widget"] += [b.proto.label for b in at.get("download_button")]
    for df in at.dataframe:
        v = df.value
        seen["table header"] += [str(c) for c in v.columns]
        # a "Source" column quotes each figure's citation as the reference table gives it
        cells = v.drop(columns=[c for c in v.columns if str(c) == "Source"])
        seen["table cell"] += ["None" if x is None else str(x)
                               for x in cells.to_numpy().ravel().tolist()]
    for spec in chart_specs(at):
        seen["chart"] += _chart_words(spec)
    return {k: [x for x in v if x] for k, v in seen.items()}
