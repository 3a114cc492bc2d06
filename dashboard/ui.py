"""Shared Streamlit building blocks for the pages: page context, the
vocabulary (labels of fields, keys and components, dates and times with their
zone), empty states that say *why* something is empty and what fills it,
tables with people's headers, charts with their data one click away, and
selectors whose value lives in the URL (``st.query_params``).

Pages show people's words only: field labels from the indicators'
:class:`~indicators.registry.Column`, keys as :meth:`Universe.label` names
them, dates as New York trading days and times in UTC with the zone shown.
Machine names stay in downloaded files (with their labels in the metadata)."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from bubblewatch.core.settings import EVENT_CATEGORIES, Settings
from bubblewatch.core.universe import Universe
from dashboard import data
from dashboard.downloads import to_bytes
from indicators import registry, vocabulary

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


# --------------------------------------------------------------------------- vocabulary
def label(indicator: str, field: str) -> str:
    """People's label of a stored field (its :class:`Column` label)."""
    return vocabulary.label(indicator, field)


def explain(indicator: str, field: str) -> str:
    """``"label (unit): description"`` of a stored field (help texts)."""
    return vocabulary.explain(indicator, field)


def labels(indicator: str, fields: Sequence[str] | None = None) -> dict[str, str]:
    """Field -> label for ``fields`` of ``indicator`` (all when None)."""
    return vocabulary.labels(indicator, list(fields) if fields is not None else None)


def key_label(key: str, long: bool = False) -> str:
    """A key (symbol, basket, cohort, pair) as people call it."""
    return context().universe.label(str(key), long=long)


def entity_label(entity: str) -> str:
    """An entity of the reference table (a symbol or a group such as
    ``telecom_vendors``) as people call it."""
    lab = key_label(str(entity))
    return lab.replace("_", " ").capitalize() if "_" in lab else lab


def fmt_field(indicator: str, field: str, value: float | None) -> str:
    """A stored value written in its field's unit (``+312%``, ``1,194 USD bn``)."""
    return vocabulary.format_field(indicator, field, value)


def component_label(name: str) -> str:
    """People's name of a composite component."""
    return vocabulary.component_label(name)


def signal_label(name: str) -> str:
    """People's name of a backtest signal (``"PSY, pointwise"``)."""
    return vocabulary.signal_label(str(name))


def words(indicator: str, text: str) -> str:
    """A stored note with the indicator's field names put in words."""
    return vocabulary.words(indicator, text)


def category_label(category: str) -> str:
    """People's name of an event category (``"US export controls"``)."""
    return vocabulary.category_label(str(category))


def event_labels() -> dict[str, str]:
    """Every stored event (built-in or the user's) by its title and news date:
    key -> ``"DeepSeek shock (2025-01-27)"``."""
    return {k: f"{t} ({d})" for k, (d, t) in _events().items()}


def title(indicator: str) -> str:
    """The indicator's title (``"Explosiveness (PSY)"``)."""
    return registry.get(indicator).title


def day(d: Any) -> str:
    """A date as ``YYYY-MM-DD`` (an exchange trading day in New York)."""
    return "–" if d is None or (not isinstance(d, str) and pd.isna(d)) else \
        f"{pd.Timestamp(d):%Y-%m-%d}"


def when(t: Any) -> str:
    """A moment as ``YYYY-MM-DD HH:MM UTC`` (naive values are taken as UTC)."""
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return "–"
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return f"{ts:%Y-%m-%d %H:%M} UTC"


def param_text(indicator: str, name: str, value: Any) -> tuple[str, str]:
    """``(what the parameter sets, its value)`` in words, from the parameter's
    ``Field(description=...)``; unset values read ``not set``."""
    field = registry.get(indicator).params.model_fields.get(name)
    desc = (field.description if field is not None and field.description else name)
    desc = vocabulary.words(indicator, _entity_metrics(re.sub(r"\bNone\b", "not set", desc)))
    desc = desc[:1].upper() + desc[1:]
    events = _events()
    if value is None:
        shown = "not set"
    elif isinstance(value, str) and value in events:
        shown = " ".join(events[value])
    elif isinstance(value, (list, tuple)) and not value:
        shown = "none"
    elif _all_in(value, EVENT_CATEGORIES):
        shown = ", ".join(category_label(v) for v in value)  # event categories studied
    elif _all_in(value, vocabulary.signal_labels()):
        shown = "; ".join(signal_label(v) for v in value)  # monitors (names hold commas)
    elif _all_in(value, vocabulary.component_names()):
        shown = ", ".join(component_label(v) for v in value)  # composite components
    elif isinstance(value, bool):
        shown = "yes" if value else "no"
    elif isinstance(value, (list, tuple)) and len(value) == 2 and not any(
            isinstance(v, str) and not _DATE.fullmatch(v) for v in value):
        shown = " to ".join("open" if v is None else str(v) for v in value)  # a range
    elif isinstance(value, (list, tuple)):
        shown = ", ".join(_entity_metrics(str(v)) for v in value)
    else:
        shown = _entity_metrics(str(value))
    return desc, shown


def _all_in(value: Any, names: Collection[str]) -> bool:
    """``value`` is a non-empty list of names, every one of them in ``names``."""
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, str) and v in names for v in value)


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: ``SYMBOL:metric`` (a reference figure of a company, ``MSFT:ai_revenue``).
_ENTITY_METRIC = re.compile(r"'?\b([A-Z][A-Z0-9.^-]*):([a-z][a-z0-9_]*)\b'?")


def _entity_metrics(text: str) -> str:
    """``MSFT:ai_revenue`` -> ``Microsoft (MSFT) ai revenue`` (AI capitalised)."""
    def one(m: re.Match[str]) -> str:
        metric = re.sub(r"\bai\b", "AI", m.group(2).replace("_", " "))
        return f"{key_label(m.group(1))} {metric}"

    return _ENTITY_METRIC.sub(one, text)


def _events() -> dict[str, tuple[str, str]]:
    """Stored event key -> ``("YYYY-MM-DD", title)`` (parameters and results name
    events by key)."""
    ev = data.reference_events(context().url)
    if ev.empty:
        return {}
    return {str(k): (day(d), str(t)) for k, d, t in zip(ev["key"], ev["date"], ev["title"],
                                                         strict=True)}


def params_panel(info: Mapping[str, Any] | None, indicator: str) -> None:
    """The run's parameters in words, each with the option that changes it."""
    params = (info or {}).get("params") or {}
    if not params:
        return
    with st.expander("Parameters of this run", expanded=False):
        st.markdown("\n".join(
            f"- {d}: **{v}** · `--param {n}=…`"
            for n, (d, v) in ((n, param_text(indicator, n, x)) for n, x in params.items())))
        st.caption(f"Change them with `{CMD_COMPUTE} {indicator} --param NAME=VALUE`.")


# --------------------------------------------------------------------------- absence
def empty_state(what: str, command: str, detail: str | None = None) -> None:
    """Say that ``what`` is missing and exactly which command fills it."""
    msg = f"**No {what} yet.** Run `{command}` to fill this."
    if detail:
        msg += f"  \n{detail}"
    st.info(msg, icon=":material/hourglass_empty:")


def missing_indicator(name: str, key: str | None = None) -> None:
    """Why ``name`` (for ``key``) shows nothing: the reason the computation
    stored (``Meta.missing``: no SEC data for that company, too short a
    history...) with what would fill it; or, never computed, the command."""
    if key is not None:
        url = context().url
        info = data.run_info(url, name, key)
        meta = data.run_meta(url, name, key) if info is not None else None
        if meta is not None and (meta.missing or meta.note):
            reason = vocabulary.words(name, str(meta.missing or meta.note))
            st.info(f"**No {title(name)} for {key_label(key, long=True)}.** "
                    f"{reason[:1].upper()}{reason[1:]}.".replace("..", "."),
                    icon=":material/info:")
            return
    target = title(name) + (f" for {key_label(key, long=True)}" if key else "")
    empty_state(f"{target} results", f"{CMD_COMPUTE} {name}",
                "The dashboard only shows stored results; it never computes indicators itself.")


def note(indicator: str, text: str | None) -> None:
    """A stored remark (``Meta.note``) in people's words, as a grey line."""
    if text:
        st.caption(vocabulary.words(indicator, str(text)))


# --------------------------------------------------------------------------- tables
def table_view(df: pd.DataFrame, names: Mapping[str, str] | None = None,
               links: Sequence[str] = ()) -> pd.DataFrame:
    """``df`` for people: columns renamed (``names``; others keep theirs),
    dates as ``YYYY-MM-DD``, moments in UTC with the zone, missing values ``–``;
    a missing value of a ``links`` column is left empty (no link at all)."""
    out = df.copy()
    for c in out.columns:
        if c in links:
            out[c] = out[c].map(lambda v: v if isinstance(v, str) else "")
            continue
        col = out[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype):
            out[c] = col.map(when)
        elif pd.api.types.is_datetime64_any_dtype(col.dtype):
            out[c] = col.map(day)
        elif col.dtype == object and col.map(lambda v: hasattr(v, "isoformat")).any():
            out[c] = col.map(lambda v: (when(v) if getattr(v, "tzinfo", None) is not None
                                        else day(v)) if hasattr(v, "isoformat") else v)
        if out[c].isna().any():
            if pd.api.types.is_numeric_dtype(out[c].dtype):
                out[c] = out[c].map(_number)
            else:
                out[c] = out[c].astype(object).where(out[c].notna(), "–").map(str)
    return out.rename(columns=dict(names or {}))


def _number(v: Any) -> str:
    """A number of a column with gaps, as text (``–`` for a gap)."""
    if v is None or pd.isna(v):
        return "–"
    f = float(v)
    return f"{f:,.0f}" if f.is_integer() else f"{f:,.4g}"


def table(df: pd.DataFrame, *, key: str, names: Mapping[str, str] | None = None,
          links: Sequence[str] = (), **kwargs: Any) -> pd.DataFrame:
    """Show ``df`` with people's headers (see :func:`table_view`); returns what was shown."""
    view = table_view(df, names, links)
    st.dataframe(view, hide_index=True, key=key, **kwargs)
    return view


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


def pick_series(url: str, name: str, title: str, *, key: str, prefer: str = "NVDA"
                ) -> tuple[str, dict[str, Any] | None, pd.DataFrame] | None:
    """Let the reader choose one stored key of indicator ``name`` (kept in the
    URL as ``?key=``; ``prefer`` first when stored) and load it: ``(key, run
    info, wide frame)``. With nothing stored for ``name`` it shows the empty
    state naming the command and returns None."""
    keys = data.keys_of(url, name)
    if not keys:
        missing_indicator(name)
        return None
    choice = select(title, keys, key=key, default=prefer if prefer in keys else keys[0],
                    format_func=lambda k: key_label(k, long=True))
    return choice, data.run_info(url, name, choice), data.indicator(url, name, choice)


def about_run(info: Mapping[str, Any] | None) -> dict[str, Any]:
    """Provenance of a stored result for downloads: params, as-of, computed-at."""
    if not info:
        return {}
    return {"indicator": info.get("indicator"), "key": info.get("key"),
            "params": info.get("params"), "params_hash": info.get("params_hash"),
            "as_of": info.get("as_of"), "computed_at": info.get("computed_at"),
            "meta": info.get("meta")}


def run_caption(info: Mapping[str, Any] | None) -> None:
    """One grey line: as-of date (a New York trading day), when computed (UTC)
    and how the rows are dated; the parameters in words below it."""
    if not info:
        return
    name = str(info.get("indicator") or "")
    ind = registry.get(name) if name else None
    st.caption(f"Data as of {day(info.get('as_of'))} (New York trading day) · computed "
               f"{when(info.get('computed_at'))}"
               + (f" · rows {ind.sampling}" if ind is not None else ""))
    if ind is not None:
        params_panel(info, name)


def fmt_num(v: float | None, digits: int = 0, suffix: str = "") -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{v:,.{digits}f}{suffix}"
