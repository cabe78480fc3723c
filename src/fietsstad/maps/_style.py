"""Private plumbing of :mod:`fietsstad.maps`: escaping, offline Leaflet, colours, legends, panels.

Escaping rule: every piece of text that reaches a map (street and hub names, user columns, titles,
numbers) passes :func:`esc` first. folium renders tooltips and popups as HTML *inside JavaScript
template literals*, so besides ``& < > " '`` the backtick, ``$`` and backslash are turned into HTML
entities as well: an escaped string can neither open a tag nor leave (or interpolate into) the
template literal.

No text is ever template source: branca compiles the string given to ``Element(...)`` as a Jinja2
template, so an OSM street name such as ``{{ 7*7 }}`` would be *executed* when the map renders.
Raw HTML therefore enters the page only through :func:`raw_html`, whose template is fixed and which
inserts its text as data; and :func:`esc` also turns ``{ } %`` into HTML entities, so even a string
that reached a template by mistake could not open a Jinja2 expression, statement or comment.

Offline Leaflet: folium loads Leaflet, jQuery, Bootstrap and Font Awesome from CDNs. fietsstad's maps
use only Leaflet itself (circle markers, GeoJSON, tooltips, layer control; no popups, icons or
branca colormaps), and inline Leaflet 1.9.4's JS and CSS (marker/layer images as data URIs). The
files ship with fietsstad as package data in ``fietsstad/maps/_leaflet/`` (unchanged from the npm
release ``leaflet@1.9.4``, BSD-2-Clause, its LICENSE beside them), so the HTML works offline apart
from the background tiles. Should the files be missing (a broken install) the maps fall back to
folium's CDN links and say so in ``Map.fietsstad_offline``.

Words for people: :data:`LABELS` is the one table from result column names and summary keys to the
labels a map shows (``bike_share_change_pp`` -> "Change in bike share (percentage points)");
:func:`label` looks a name up there (and makes an unknown name readable); :func:`fmt` rounds numbers
for people (no seven-digit floats).
"""

from __future__ import annotations

import base64
import html
import re
from functools import lru_cache
from typing import Any

import numpy as np

#: blue (good) -> light grey -> red (bad), 9 classes
DIVERGING = (
    "#2166ac",
    "#4393c3",
    "#92c5de",
    "#c6dbef",
    "#d9d9d9",
    "#fddbc7",
    "#f4a582",
    "#d6604d",
    "#b2182b",
)
#: light -> dark purple, 6 classes (catchment bands, sequential values)
SEQUENTIAL = ("#efedf5", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#54278f")
BAND_COLORS = ("#1b7837", "#5aae61", "#a6dba0", "#d9f0d3", "#f7f7f7")
CORRIDOR_COLOR = "#ff7f00"


def esc(value: Any) -> str:
    """HTML-escape any value for a tooltip, legend or title (safe inside JS template literals too).

    Example
    -------
    >>> esc("<script>`${x}`</script>")
    '&lt;script&gt;&#96;&#36;&#123;x&#125;&#96;&lt;/script&gt;'
    """
    s = html.escape(str(value), quote=True)
    return s.translate(_EXTRA_ENTITIES)


#: characters that html.escape leaves alone but that JS template literals or Jinja2 would read
_EXTRA_ENTITIES = str.maketrans(
    {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;", "%": "&#37;"}
)


def raw_html(text: str) -> Any:
    """A branca element that writes ``text`` verbatim: ``text`` is data, never a template.

    branca's ``Element(text)`` compiles ``text`` as a Jinja2 template (so ``{{ 7*7 }}`` in it would
    render as ``49``, and worse); this element's template is the fixed ``{{ this.text }}``.

    Example
    -------
    >>> raw_html("<b>{{ 7*7 }}</b>").render()
    '<b>{{ 7*7 }}</b>'
    """
    from branca.element import Element

    el = Element("{{ this.text }}")
    el.text = str(text)  # type: ignore[attr-defined]
    return el


def fmt(x: Any, digits: int = 1) -> str:
    """A number for people: thousands separators, '–' for missing, at most ``digits`` decimals.

    Numbers of 100 and more get no decimals and numbers of 10 and more at most one, so a tooltip
    never shows a seven-digit float.

    Example
    -------
    >>> fmt(1234567.891, 3), fmt(12.3456, 3), fmt(0.5, 3), fmt(float("nan"))
    ('1,234,568', '12.3', '0.500', '–')
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        return esc(x)
    if not np.isfinite(v):
        return "–"
    if abs(v) >= 100:
        digits = 0
    elif abs(v) >= 10:
        digits = min(digits, 1)
    return f"{v:,.{max(int(digits), 0)}f}"


def fmt_seconds(s: Any) -> str:
    """A travel time for people: ``'43 min 26 s'``, ``'52 s'``, '–' for missing.

    Example
    -------
    >>> fmt_seconds(2606), fmt_seconds(52.4), fmt_seconds(float("nan"))
    ('43 min 26 s', '52 s', '–')
    """
    try:
        v = float(s)
    except (TypeError, ValueError):
        return esc(s)
    if not np.isfinite(v):
        return "–"
    v = int(round(v))
    sign, v = ("−" if v < 0 else ""), abs(v)
    return f"{sign}{v // 60} min {v % 60} s" if v >= 60 else f"{sign}{v} s"


#: Labels for people of result columns and summary keys (``{minutes}``: the accessibility threshold).
LABELS: dict[str, str] = {
    # zones of a scenario result
    "name": "District",
    "population": "Inhabitants",
    "inhabitants": "Inhabitants",
    "inhabitants_2024": "Inhabitants (2024)",
    "node": "Nearest network node",
    "access_before": "Inhabitants within {minutes} min by bike, before",
    "access_after": "Inhabitants within {minutes} min by bike, after",
    "access_change": "Change in inhabitants within {minutes} min by bike",
    "accessibility_before": "Accessibility, before",
    "accessibility_after": "Accessibility, after",
    "accessibility_change": "Change in accessibility",
    "bike_share_before": "Bike share before (fraction of trips)",
    "bike_share_after": "Bike share after (fraction of trips)",
    "bike_share_change_pp": "Change in bike share (percentage points)",
    "bike_trips_before": "Bike trips per day, before",
    "bike_trips_after": "Bike trips per day, after",
    "extra_bike_trips": "Extra bike trips per day",
    "minutes_saved": "Minutes saved per day",
    # scenario summary
    "network_source": "Network",
    "route_name": "Route",
    "route_length_km": "Route length (km)",
    "route_straight_km": "Straight line (km)",
    "directness": "Directness (length / straight line; target ≤ 1.2)",
    "minutes_saved_per_day": "Minutes saved per day (all cyclists)",
    "bike_share_before_pct": "Bike share before (%)",
    "bike_share_after_pct": "Bike share after (%)",
    "extra_bike_trips_per_day": "Extra bike trips per day",
    "car_trips_replaced_per_day": "Car trips replaced per day",
    "corridor_cyclists_before": "Cyclists on the corridor per day, before",
    "corridor_cyclists_after": "Cyclists on the corridor per day, after",
    "corridor_cyclists_change_pct": "Change in cyclists on the corridor (%; – = new)",
    "co2_avoided_kg_per_day": "CO2 avoided (kg per day)",
    "route_clipped": "Route clipped to the network",
    "od_pairs_improved_share": "Share of trips (OD pairs) that get faster",
    "edges_upgraded": "Streets upgraded (directed edges)",
    "edges_added": "New links (directed edges)",
}


def label(key: Any, minutes: float = 15) -> str:
    """The label for people of a column or summary key (from :data:`LABELS`; else made readable).

    A difference ``"a − b"`` of two known columns reads "Change in ... (after − before)".

    Example
    -------
    >>> label("bike_share_change_pp")
    'Change in bike share (percentage points)'
    >>> label("access_before", minutes=10)
    'Inhabitants within 10 min by bike, before'
    >>> label("accessibility_after − accessibility_before")
    'Change in accessibility (after − before)'
    >>> label("some_new_column")
    'Some new column'
    """
    k = str(key)
    if k in LABELS:
        return LABELS[k].format(minutes=fmt(minutes, 0))
    if " − " in k:
        a, b = k.split(" − ", 1)
        stem_a, stem_b = a.rsplit("_", 1)[0], b.rsplit("_", 1)[0]
        if stem_a == stem_b and a.endswith("after") and b.endswith("before"):
            base = label(stem_a, minutes)
            return f"Change in {base[:1].lower()}{base[1:]} (after − before)"
        return f"{label(a, minutes)} − {label(b, minutes)}"
    words = k.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else k


def network_label(meta: dict[str, Any], generated: bool = False) -> str:
    """Where a network comes from, for people (``meta`` of a BikeNetwork).

    Example
    -------
    >>> network_label({"source": "osm-file:liechtenstein-latest.osm.pbf"})
    'OpenStreetMap extract liechtenstein-latest.osm.pbf'
    >>> network_label({"source": "generated"}, generated=True)
    'GENERATED network'
    """
    if generated:
        return "GENERATED network"
    src = str(meta.get("source", "osm"))
    if src.startswith("osm-file:"):
        return f"OpenStreetMap extract {src[len('osm-file:') :]}"
    if src == "osm" and meta.get("place"):
        return f"osm: OpenStreetMap download of {meta['place']}"
    return src


#: Package folder of the Leaflet 1.9.4 release files (npm ``leaflet@1.9.4``, ``dist/``).
LEAFLET_DIR = "_leaflet"


@lru_cache(maxsize=1)
def offline_leaflet() -> tuple[str, str] | None:
    """``(css, js)`` of Leaflet 1.9.4, shipped in ``fietsstad/maps/_leaflet/``; None if missing.

    The CSS's marker and layer images are inlined as data URIs.

    Example
    -------
    >>> css, js = offline_leaflet()
    >>> "Leaflet 1.9.4" in js and "data:image/png;base64," in css
    True
    """
    from importlib import resources

    try:
        base = resources.files("fietsstad.maps").joinpath(LEAFLET_DIR)
        js = base.joinpath("leaflet.js").read_text(encoding="utf-8")
        css = base.joinpath("leaflet.css").read_text(encoding="utf-8")

        def data_uri(m: re.Match) -> str:
            img = base.joinpath("images").joinpath(m.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

        css = re.sub(r"url\(images/([A-Za-z0-9_\-]+\.png)\)", data_uri, css)
    except (ImportError, ModuleNotFoundError, OSError):  # pragma: no cover - a broken install
        return None
    # the inline <script> must not contain a closing script tag (Leaflet's does not; be sure)
    if "</script" in js.lower() or "</style" in css.lower():  # pragma: no cover
        return None
    return css, js


def base_map(
    bounds: tuple[float, float, float, float],
    tiles: str | None = "OpenStreetMap",
    title: str = "fietsstad map",
) -> Any:
    """A folium Map fitted to ``(min_lon, min_lat, max_lon, max_lat)``, with Leaflet inlined.

    ``title`` becomes the page's ``<title>`` (escaped; it is data, never template source).

    Example
    -------
    >>> m = base_map((6.0, 52.4, 6.2, 52.6), tiles=None, title="A & B")
    >>> "<title>A &amp; B</title>" in m.get_root().render()
    True
    """
    import folium

    lon0, lat0, lon1, lat1 = bounds
    m = folium.Map(
        location=[(lat0 + lat1) / 2, (lon0 + lon1) / 2],
        zoom_start=12,
        tiles=tiles,
        control_scale=True,
        prefer_canvas=True,
    )
    assets = offline_leaflet()
    if assets is not None:
        css, js = assets
        m.default_js = []
        m.default_css = []
        root: Any = m.get_root()  # a branca Figure (it has a header)
        root.header.add_child(raw_html(f"<style>{css}</style>"), name="leaflet_css_inline")
        root.header.add_child(raw_html(f"<script>{js}</script>"), name="leaflet_js_inline")
    # tells callers (and tests) whether the HTML works offline apart from the tiles
    setattr(m, "fietsstad_offline", assets is not None)  # noqa: B010
    root_fig: Any = m.get_root()
    root_fig.title = esc(title)  # branca's Figure writes it into <title> as data
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


def add_html(m: Any, html_text: str, name: str) -> None:
    """Add raw (already escaped) HTML to the map page body (as data: never compiled as a template)."""
    m.get_root().html.add_child(raw_html(html_text), name=name)


def title_box(title: str, subtitle: str = "", generated: bool = False) -> str:
    """A fixed title box; a GENERATED network is said in red capitals."""
    warn = ""
    if generated:
        warn = (
            '<div style="color:#b2182b;font-weight:bold">GENERATED network (synthetic, '
            "not OpenStreetMap): the numbers illustrate the method, not Zwolle</div>"
        )
    sub = f'<div style="font-size:12px;color:#444">{esc(subtitle)}</div>' if subtitle else ""
    return (
        '<div class="fietsstad-title" style="position:fixed;top:10px;left:60px;z-index:1000;'
        "background:rgba(255,255,255,0.92);padding:6px 10px;border-radius:4px;"
        'font:14px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:60%">'
        f"<b>{esc(title)}</b>{sub}{warn}</div>"
    )


#: Where a panel sits by default: bottom left, ABOVE Leaflet's scale bar (which sits bottom left,
#: 10 px from the edge, metric and imperial lines: about 45 px), never covering it.
PANEL_POSITION = "bottom:60px;left:10px"


def panel(inner_html: str, position: str = PANEL_POSITION, name: str = "panel") -> str:
    """A fixed white panel holding already-escaped HTML (by default above the scale bar)."""
    return (
        f'<div class="fietsstad-{esc(name)}" style="position:fixed;{position};z-index:1000;'
        "background:rgba(255,255,255,0.94);padding:6px 10px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:340px;"
        'max-height:calc(100vh - 170px);overflow:auto">'
        f"{inner_html}</div>"
    )


def legend(
    title: str,
    colors: tuple[str, ...] | list[str],
    labels: list[str],
    shapes: str | list[str] = "box",
) -> str:
    """Legend with one swatch per class (labels are escaped here).

    ``shapes``: ``"box"`` (a line or area), ``"dot"`` (a circle marker), or one of them per row.
    """
    kinds = [shapes] * len(labels) if isinstance(shapes, str) else list(shapes)
    radius = {"box": "0", "dot": "50%"}
    size = {"box": "width:14px;height:10px", "dot": "width:11px;height:11px"}
    rows = "".join(
        f'<div><span style="display:inline-block;{size[k]};background:{c};'
        f'border-radius:{radius[k]};margin-right:6px;border:1px solid #999"></span>{esc(lab)}</div>'
        for c, lab, k in zip(colors, labels, kinds)
    )
    return f"<b>{esc(title)}</b>{rows}"


def diverging_classes(values: np.ndarray, vmax: float | None = None) -> tuple[np.ndarray, float]:
    """Class 0..8 of each value on a symmetric scale ``[-vmax, vmax]`` (4 = about zero)."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64))
    if vmax is None:
        nz = np.abs(v[v != 0])
        vmax = float(np.quantile(nz, 0.95)) if len(nz) else 1.0
    vmax = vmax if vmax > 0 else 1.0
    cls = np.rint(np.clip(v / vmax, -1, 1) * 4).astype(np.int64) + 4
    return cls, vmax


def curve_svg(
    n: list[int], series: dict[str, list[float]], total: float, width: int = 300, height: int = 150
) -> str:
    """An inline SVG line chart of coverage (share of population) against number of hubs."""
    colors = ("#54278f", "#ff7f00", "#1b7837")
    pad_l, pad_b, pad_t, pad_r = 36, 24, 8, 8
    w, h = width - pad_l - pad_r, height - pad_b - pad_t
    nmax = max(max(n), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        'role="img" aria-label="coverage curve">',
        f'<rect x="{pad_l}" y="{pad_t}" width="{w}" height="{h}" fill="#fafafa" stroke="#ccc"/>',
    ]
    for frac in (0, 0.5, 1.0):
        y = pad_t + h * (1 - frac)
        parts.append(
            f'<text x="{pad_l - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{int(frac * 100)}%</text>"
        )
    for i in n:
        x = pad_l + w * i / nmax
        parts.append(
            f'<text x="{x:.1f}" y="{height - 8}" font-size="10" text-anchor="middle">{i}</text>'
        )
    for ys, col in zip(series.values(), colors):
        pts = " ".join(
            f"{pad_l + w * i / nmax:.1f},{pad_t + h * (1 - (y / total if total else 0)):.1f}"
            for i, y in zip(n, ys)
        )
        parts.append(f'<polyline fill="none" stroke="{col}" stroke-width="2" points="{pts}"/>')
        for i, y in zip(n, ys):
            cy = pad_t + h * (1 - (y / total if total else 0))
            parts.append(
                f'<circle cx="{pad_l + w * i / nmax:.1f}" cy="{cy:.1f}" r="2.5" fill="{col}"/>'
            )
    parts.append("</svg>")
    keys = " ".join(
        f'<span style="color:{c}">&#9632; {esc(k)}</span>' for k, c in zip(series, colors)
    )
    return "".join(parts) + f"<div>{keys}</div>"
