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
branca colormaps), and inline Leaflet 1.9.4's JS and CSS (marker/layer images as data URIs) from the
``django-js-lib-leaflet`` package (BSD-2, a plain repackaging of the Leaflet release files, no
Django needed to read them). The HTML then works offline apart from the background tiles. Without
that package the maps fall back to folium's CDN links and say so in ``Map.fietsstad_offline``.
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
    """A number for people: thousands separators, ``digits`` decimals, '–' for missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return esc(x)
    if not np.isfinite(v):
        return "–"
    if abs(v - round(v)) < 1e-9 and abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


@lru_cache(maxsize=1)
def offline_leaflet() -> tuple[str, str] | None:
    """``(css, js)`` of Leaflet 1.9.4 from the ``django-js-lib-leaflet`` package, or None."""
    try:
        from importlib import resources

        base = resources.files("js_lib_leaflet").joinpath("static", "js_lib_leaflet")
        js = base.joinpath("leaflet.js").read_text(encoding="utf-8")
        css = base.joinpath("leaflet.css").read_text(encoding="utf-8")

        def data_uri(m: re.Match) -> str:
            img = base.joinpath("images", m.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(img).decode()})"

        css = re.sub(r"url\(images/([A-Za-z0-9_\-]+\.png)\)", data_uri, css)
    except (ImportError, ModuleNotFoundError, OSError):
        return None
    # the inline <script> must not contain a closing script tag (Leaflet's does not; be sure)
    if "</script" in js.lower():  # pragma: no cover
        return None
    return css, js


def base_map(bounds: tuple[float, float, float, float], tiles: str | None = "OpenStreetMap"):
    """A folium Map fitted to ``(min_lon, min_lat, max_lon, max_lat)``, with Leaflet inlined."""
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
    m.fit_bounds([[lat0, lon0], [lat1, lon1]])
    return m


def add_html(m, html_text: str, name: str) -> None:
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


def panel(inner_html: str, position: str = "bottom:30px;left:10px", name: str = "panel") -> str:
    """A fixed white panel holding already-escaped HTML."""
    return (
        f'<div class="fietsstad-{esc(name)}" style="position:fixed;{position};z-index:1000;'
        "background:rgba(255,255,255,0.94);padding:6px 10px;border-radius:4px;"
        "font:12px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,0.3);max-width:340px;"
        'max-height:75vh;overflow:auto">'
        f"{inner_html}</div>"
    )


def legend(title: str, colors: tuple[str, ...] | list[str], labels: list[str]) -> str:
    """Legend with one swatch per class (labels are escaped here)."""
    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:10px;background:{c};'
        f'margin-right:6px;border:1px solid #999"></span>{esc(lab)}</div>'
        for c, lab in zip(colors, labels)
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
