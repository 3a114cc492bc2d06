"""Shared Streamlit building blocks for the pages: page context, empty
states naming the command that fills them, charts with their data one click
away, and selectors whose value lives in the URL (``st.query_params``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from bubblewatch.core.settings import Settings
from bubblewatch.core.universe import Universe
from dashboard import data
from dashboard.downloads import to_bytes

T = TypeVar("T")

#: Commands that fill the database, named in empty states.
CMD_INIT = "bubblewatch init"
CMD_INGEST = "bubblewatch ingest"
CMD_INGEST_DIR = "bubblewatch ingest --from-dir DIR"
CMD_COMPUTE = "bubblewatch compute"
CMD_ALERTS_CHECK = "bubblewatch alerts check"
CMD_ALERTS_SEND = "bubblewatch alerts send"

PLOTLY_CONFIG = {"displaylogo": False, "toImageButtonOptions": {"format": "png", "scale": 2}}


@dataclass(frozen=True, slots=True)
class PageContext:
    """What every page needs: the settings, the database URL, the universe."""

    settings: Settings
    url: str

    @property
    def universe(self) -> Universe:
        return self.settings.universe


def context() -> PageContext:
    """The page context set up by ``dashboard/app.py`` for this run."""
    ctx = st.session_state.get("_bw_ctx")
    if ctx is None:  # a page run on its own (tests): build it here
        s = data.settings()
        ctx = PageContext(s, s.resolved_database_url)
    return ctx


def empty_state(what: str, command: str, detail: str | None = None) -> None:
    """Say that ``what`` is missing and exactly which command fills it."""
    msg = f"**No {what} yet.** Run `{command}` to fill this."
    if detail:
        msg += f"  \n{detail}"
    st.info(msg, icon=":material/hourglass_empty:")


def missing_indicator(name: str, key: str | None = None) -> None:
    """Empty state for an indicator that was never computed."""
    target = f"`{name}`" + (f" for `{key}`" if key else "")
    empty_state(f"{target} results", f"{CMD_COMPUTE} {name}",
                "The dashboard only shows stored results; it never computes indicators itself.")


def chart(fig: go.Figure, frame: pd.DataFrame, name: str, *, key: str,
          about: Mapping[str, Any] | None = None) -> None:
    """A plotly chart with a download button for its data right beside it."""
    st.plotly_chart(fig, key=f"chart_{key}", config=PLOTLY_CONFIG)
    download(frame, name, key=key, about=about, label="Download chart data (CSV)")


def download(frame: pd.DataFrame, name: str, *, key: str, fmt: str = "csv",
             about: Mapping[str, Any] | None = None, label: str | None = None) -> None:
    """A download button for ``frame`` in ``fmt``."""
    d = to_bytes(frame, fmt, name=name, about=about)
    st.download_button(label or f"Download {fmt.upper()}", d.data, file_name=d.file_name,
                       mime=d.mime, key=f"dl_{key}_{fmt}", icon=":material/download:",
                       on_click="ignore")


def select(label: str, options: Sequence[T], *, key: str, default: T | None = None,
           format_func: Callable[[T], str] = str, sidebar: bool = False,
           horizontal: bool = False, help: str | None = None) -> T:
    """A selectbox (or segmented control when ``horizontal``) whose value is
    kept in the URL as ``?key=value``, so a view can be shared and reloaded."""
    opts = list(options)
    if not opts:
        raise ValueError(f"{label}: no options")
    strs = [str(o) for o in opts]
    wanted = st.query_params.get(key)
    if wanted in strs:
        index = strs.index(wanted)
    elif default is not None and str(default) in strs:
        index = strs.index(str(default))
    else:
        index = 0
    where = st.sidebar if sidebar else st
    if horizontal:
        value = where.segmented_control(label, opts, default=opts[index], key=f"w_{key}",
                                        format_func=format_func, help=help, required=True)
        if value is None:
            value = opts[index]
    else:
        value = where.selectbox(label, opts, index=index, key=f"w_{key}",
                                format_func=format_func, help=help)
    if st.query_params.get(key) != str(value):
        st.query_params[key] = str(value)
    return value  # type: ignore[return-value]


def pick_series(url: str, name: str, label: str, *, key: str, prefer: str = "NVDA"
                ) -> tuple[str, dict[str, Any] | None, pd.DataFrame] | None:
    """Let the reader choose one stored key of indicator ``name`` (kept in the
    URL as ``?key=``; ``prefer`` first when stored) and load it: ``(key, run
    info, wide frame)``. With nothing stored for ``name`` it shows the empty
    state naming the command and returns None."""
    keys = data.keys_of(url, name)
    if not keys:
        missing_indicator(name)
        return None
    choice = select(label, keys, key=key, default=prefer if prefer in keys else keys[0])
    return choice, data.run_info(url, name, choice), data.indicator(url, name, choice)


def about_run(info: Mapping[str, Any] | None) -> dict[str, Any]:
    """Provenance of a stored result for downloads: params, as-of, computed-at."""
    if not info:
        return {}
    return {"indicator": info.get("indicator"), "key": info.get("key"),
            "params": info.get("params"), "params_hash": info.get("params_hash"),
            "as_of": info.get("as_of"), "computed_at": info.get("computed_at")}


def run_caption(info: Mapping[str, Any] | None) -> None:
    """One grey line: as-of date, when computed, parameters."""
    if not info:
        return
    params = info.get("params") or {}
    ptxt = ", ".join(f"{k}={v}" for k, v in list(params.items())[:8])
    computed = pd.Timestamp(info["computed_at"]).strftime("%Y-%m-%d %H:%M UTC") \
        if info.get("computed_at") is not None else "?"
    st.caption(f"as of {info.get('as_of') or '?'} · computed {computed}"
               + (f" · {ptxt}" if ptxt else ""))


def fmt_num(v: float | None, digits: int = 0, suffix: str = "") -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{v:,.{digits}f}{suffix}"
