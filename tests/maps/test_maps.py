"""Tests of fietsstad.maps: content, escaping of hostile text, offline HTML, headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from conftest import grid_network
from fietsstad import hubs
from fietsstad.errors import ValidationError
from fietsstad.maps import draw as maps
from fietsstad.maps._style import esc, offline_leaflet
from fietsstad.network import BikeNetwork

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "`);alert(1);(`",
    "${alert(1)}",
    "</script><script>alert(2)</script>",
]


@dataclass
class _ScenarioLike:
    """The attributes of fietsstad.scenario.ScenarioResult that maps read, filled with real data."""

    before: BikeNetwork
    after: BikeNetwork
    route_edges: np.ndarray
    route_geometry: np.ndarray
    zones: Any
    edge_flow_change: np.ndarray
    summary: dict = field(default_factory=dict)


def _scenario(names=None, zone_names=None) -> _ScenarioLike:
    """Upgrade a row of a grid network to a fast route, and compute real before/after figures."""
    import geopandas as gpd
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    before = grid_network(nx_=10, ny=6, seed=5, oneway_share=0.1, names=names)
    src = before.edge_sources()
    # corridor: edges between consecutive nodes of grid row j=2 (positions i*6+2), both directions
    row = np.arange(10) * 6 + 2
    pairs = set(zip(row[:-1], row[1:])) | set(zip(row[1:], row[:-1]))
    corridor = np.array(
        [e for e in range(before.n_edges) if (int(src[e]), int(before.indices[e])) in pairs]
    )
    after = BikeNetwork(**{k: getattr(before, k) for k in before.__dataclass_fields__})
    after.speed_kmh = before.speed_kmh.copy()
    after.speed_kmh[corridor] = 30.0
    after.infra = before.infra.copy()
    after.infra[corridor] = 7
    after = after.recompute_travel_time()
    after.meta = dict(before.meta)

    def times(net):
        ip, ind, w = net.csr()
        return dijkstra(csr_matrix((w.astype(float), ind, ip), shape=(net.n_nodes,) * 2))

    tb, ta = times(before), times(after)
    # flow change: OD pairs (all nodes) whose fastest path gets quicker count once per corridor edge
    gain = (tb - ta) > 0
    flow = np.zeros(after.n_edges)
    flow[corridor] = gain.sum() / len(corridor)
    zones = gpd.GeoDataFrame(
        {
            "name": zone_names or ["Noord", "Zuid"],
            "inhabitants_2024": [1000, 2000],
            "accessibility_before": [10.0, 20.0],
            "accessibility_after": [12.5, 20.5],
        },
        geometry=gpd.points_from_xy(before.x[[5, 50]], before.y[[5, 50]]),
        crs=4326,
    )
    geom = np.column_stack([before.x[row], before.y[row]])
    summary = {
        "route_name": (names or ["Test route"])[0],
        "generated": True,
        "route_length_km": float(before.length[corridor].sum() / 2000),
        "minutes_saved_per_day": float((tb - ta).sum() / 60),
    }
    return _ScenarioLike(before, after, corridor, geom, zones, flow, summary)


def _html(m) -> str:
    return m.get_root().render()


# ------------------------------------------------------------------------------ escaping
def test_esc_neutralises_html_and_template_literals():
    for p in PAYLOADS:
        e = esc(p)
        assert not set("<>`$\"'") & set(e)
    assert esc("a & b") == "a &amp; b"


def _assert_only_escaped(text: str):
    for p in PAYLOADS:
        assert p not in text, f"raw payload {p!r} found in the HTML"
    # the escaped forms are there (they were drawn, not dropped)
    assert esc("<script>alert(1)</script>") in text
    assert esc('"><img src=x onerror=alert(1)>') in text
    assert "<img src=x" not in text
    assert "alert(1)</script>" not in text


def test_snelfietspad_map_escapes_street_and_zone_names(tmp_path):
    res = _scenario(names=PAYLOADS, zone_names=PAYLOADS[:2])
    res.summary["note"] = PAYLOADS[1]
    path = tmp_path / "s.html"
    maps.snelfietspad_map(res, path, title=PAYLOADS[0], tiles=None)
    _assert_only_escaped(path.read_text())


def test_hubs_map_escapes_hub_names(tmp_path):
    net = grid_network(names=PAYLOADS)
    cands = hubs.hub_candidates(net.x[[0, 20, 40]], net.y[[0, 20, 40]], names=PAYLOADS[:3])
    pop = np.ones(net.n_nodes)
    pl = hubs.place_hubs(net, cands, pop, k=2, minutes=3)
    cat = hubs.hub_catchments(net, pl.hubs, minutes=(2, 4), population=pop)
    path = tmp_path / "h.html"
    maps.hubs_map(pl, cat, path, net=net, title=PAYLOADS[1], tiles=None)
    _assert_only_escaped(path.read_text())


# ------------------------------------------------------------------------------ content
def test_snelfietspad_map_content():
    res = _scenario()
    for color_by in ("flow", "time"):
        m = maps.snelfietspad_map(res, color_by=color_by, tiles=None)
        text = _html(m)
        assert "GENERATED network" in text
        assert "L.control.layers" in text
        for layer in (
            "Before: corridor streets",
            "After: corridor streets",
            "After: snelfietspad corridor",
            "Districts:",
        ):
            assert layer in text
        # zone change derived from the before/after columns: +2.5 and +0.5, labelled for people
        assert "Change in accessibility (after − before)" in text
        assert "accessibility_after" not in text and "inhabitants_2024" not in text
        assert "2.500" in text and "0.500" in text
    # the corridor polyline carries the route's coordinates (lat, lon order)
    lat, lon = np.round(res.route_geometry[0, ::-1], 6)
    assert re.search(rf"\[\s*{lat}\s*,\s*{lon}\s*\]", text)


def test_network_layer_merges_directions_and_caps_edges():
    res = _scenario()
    m = maps.snelfietspad_map(res, tiles=None, max_edges=25)
    geojsons = [
        json.loads(x)
        for x in re.findall(r'(\{"features": \[.*?\], "type": "FeatureCollection"\})', _html(m))
    ]
    n_feats = sorted(len(g["features"]) for g in geojsons)
    # network layer capped at 25 lines; corridor layers: one feature per directed corridor edge
    assert n_feats == sorted([25, len(res.route_edges), len(res.route_edges)])
    # without the cap: one line per undirected street
    src = res.after.edge_sources()
    und = {(min(a, b), max(a, b)) for a, b in zip(src.tolist(), res.after.indices.tolist())}
    m2 = maps.snelfietspad_map(res, tiles=None)
    counts = [
        len(json.loads(x)["features"])
        for x in re.findall(r'(\{"features": \[.*?\], "type": "FeatureCollection"\})', _html(m2))
    ]
    assert len(und) in counts and max(counts) == len(und)


def test_snelfietspad_map_not_generated_says_source():
    res = _scenario()
    for net in (res.before, res.after):
        net.meta = {"source": "osm", "generated": False}
    res.summary["generated"] = False
    text = _html(maps.snelfietspad_map(res, tiles=None))
    assert "GENERATED" not in text and "network: osm" in text
    # a network read from a file is named by the file, not by an internal string
    for net in (res.before, res.after):
        net.meta = {"source": "osm-file:liechtenstein-latest.osm.pbf", "generated": False}
    res.summary["network_source"] = "osm-file:liechtenstein-latest.osm.pbf"
    text = _html(maps.snelfietspad_map(res, tiles=None))
    assert "OpenStreetMap extract liechtenstein-latest.osm.pbf" in text
    assert "osm-file:" not in text


def test_snelfietspad_map_bad_input():
    res = _scenario()
    with pytest.raises(ValidationError):
        maps.snelfietspad_map(res, color_by="colour")
    with pytest.raises(ValidationError):
        maps.snelfietspad_map(res, max_edges=0)
    with pytest.raises(ValidationError):
        maps.snelfietspad_map(res, zone_column="nope")
    res.edge_flow_change = np.zeros(3)
    with pytest.raises(ValidationError):
        maps.snelfietspad_map(res)


def test_hubs_map_content_and_curve(tmp_path):
    net = grid_network()
    cands = hubs.hub_candidates(net.x[::6], net.y[::6])
    pop = np.arange(net.n_nodes, dtype=float)
    pl = hubs.place_hubs(net, cands, pop, k=3, minutes=3, method="exact")
    cat = hubs.hub_catchments(net, pl.hubs, minutes=(2, 4), population=pop)
    m = maps.hubs_map(pl, cat, tmp_path / "h.html", net=net, tiles=None)
    text = (tmp_path / "h.html").read_text()
    assert text == _html(m) or "GENERATED" in text
    assert "GENERATED network" in text and "<svg" in text and "Coverage curve" in text
    for band in ("within 2 min by bike", "within 4 min by bike"):
        assert f"Catchment: {band}" in text
    assert "Population not covered" in text and "Chosen hubs" in text
    # the table lists the optimal covered population for each number of hubs
    for i in range(1, 4):
        assert maps.st.fmt(pl.coverage_curve.loc[i, "covered"], 0) in text
    # covered + uncovered population drawn = total (aggregated in cells)
    cx, cy, cov, unc = maps._population_cells(
        net.x, net.y, pl.node_population, pl.node_covered.astype(float)
    )
    assert cov.sum() == pytest.approx(pl.covered_population)
    assert cov.sum() + unc.sum() == pytest.approx(pop.sum())


def test_offline_assets_inlined():
    assert offline_leaflet() is not None, "Leaflet's files are missing from fietsstad/maps/_leaflet"
    net = grid_network()
    pl = hubs.place_hubs(net, hubs.hub_candidates(net.x[:3], net.y[:3]), np.ones(net.n_nodes), k=1)
    text = _html(maps.hubs_map(pl, tiles=None))
    assert not re.findall(r'<script[^>]+src="http', text)
    assert not re.findall(r'<link[^>]+href="http', text)
    assert "L.map(" in text and "Leaflet 1.9.4" in text


# ------------------------------------------------------------------------------ Chromium
def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        exe = shutil.which(name)
        if exe:
            return exe
    return None


_PROBE = (
    "<script>window.__errs=[];window.addEventListener('error',function(e){"
    "window.__errs.push(String(e.message));});</script>"
)
_REPORT = (
    "<script>window.addEventListener('load',function(){setTimeout(function(){"
    "var d=document.createElement('div');d.id='fietsstad-probe';"
    "d.setAttribute('data-errors',JSON.stringify(window.__errs));"
    "d.setAttribute('data-panes',document.querySelectorAll('.leaflet-pane').length);"
    "d.setAttribute('data-xss',String(window.__xss||0));"
    "document.body.appendChild(d);},300);});</script>"
)


def _render(exe: str, html_path, tmp_path, report: str = _REPORT) -> tuple[str, str]:
    text = html_path.read_text()
    probe = tmp_path / ("probe_" + html_path.name)
    # a hostile payload that ran would call alert(); count such calls
    text = text.replace(
        "<head>",
        "<head>"
        + _PROBE
        + "<script>window.alert=function(){window.__xss=(window.__xss||0)+1;};</script>",
        1,
    )
    probe.write_text(text.replace("</body>", report + "</body>", 1))
    cmd = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.as_uri(),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return out.stdout, out.stderr


@pytest.mark.parametrize("kind", ["hubs", "snelfietspad"])
def test_maps_render_in_headless_chromium(kind, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium not found (Debian package 'chromium'): map rendering not checked")
    assert offline_leaflet() is not None  # shipped as package data: always offline
    path = tmp_path / f"{kind}.html"
    if kind == "hubs":
        net = grid_network(names=PAYLOADS)
        cands = hubs.hub_candidates(
            net.x[::8], net.y[::8], names=[PAYLOADS[i % 5] for i in range(6)]
        )
        pl = hubs.place_hubs(net, cands, np.ones(net.n_nodes), k=2, minutes=3, method="exact")
        cat = hubs.hub_catchments(net, pl.hubs, minutes=(2, 4), population=np.ones(net.n_nodes))
        maps.hubs_map(pl, cat, path, net=net, tiles=None)
    else:
        maps.snelfietspad_map(_scenario(names=PAYLOADS, zone_names=PAYLOADS[:2]), path, tiles=None)
    dom, log = _render(exe, path, tmp_path)
    probe = re.search(
        r'<div id="fietsstad-probe" data-errors="([^"]*)" data-panes="(\d+)" '
        r'data-xss="(\d+)"',
        dom,
    )
    assert probe, f"the page did not finish loading; chromium said:\n{log[-2000:]}"
    errors = json.loads(probe.group(1).replace("&quot;", '"'))
    assert errors == [], errors
    assert int(probe.group(2)) >= 5  # leaflet built its panes: the map rendered
    assert probe.group(3) == "0"  # no hostile payload ran
    assert "leaflet-container" in dom and "fietsstad-title" in dom
    console = [ln for ln in log.splitlines() if ":CONSOLE" in ln]
    assert not [ln for ln in console if "Uncaught" in ln or "Error" in ln], console


def test_snelfietspad_map_from_a_real_scenario_result(tmp_path):
    """The map reads what fietsstad.scenario.evaluate_snelfietspad really returns."""
    import fietsstad
    from fietsstad.scenario import evaluate_snelfietspad

    net = fietsstad.generate_network(1500, seed=4)
    res = evaluate_snelfietspad(net, "Dalfsen-Zwolle")
    path = tmp_path / "s.html"
    m = maps.snelfietspad_map(res, path, tiles=None)
    text = path.read_text()
    assert "GENERATED network" in text and "Dalfsen-Zwolle" in text
    # found by name among the zone columns, and labelled for people
    assert "Districts: Change in bike share (percentage points)" in text
    assert "bike_share_change_pp" not in text and "access_before" not in text
    assert "Inhabitants within 15 min by bike, before" in text
    for name in res.zones["name"]:
        assert esc(name) in text
    assert m.fietsstad_offline is True
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium missing: rendering not checked")
    dom, log = _render(exe, path, tmp_path)
    assert 'data-errors="[]"' in dom, log[-2000:]
    assert "leaflet-container" in dom


def test_thinned_network_covers_the_whole_area():
    """With a cap, streets without change are thinned evenly, not cut by node id."""
    net = grid_network(nx_=30, ny=30, seed=1)
    picked = maps._undirected_pick(net, np.zeros(net.n_edges), max_edges=60)
    assert len(picked) == 60
    ys = net.y[net.edge_sources()[picked]]
    xs = net.x[net.edge_sources()[picked]]
    # each half of the area (by latitude and by longitude) gets a fair share of the lines
    assert 15 <= (ys < np.median(net.y)).sum() <= 45
    assert 15 <= (xs < np.median(net.x)).sum() <= 45
    # the largest changes always come first
    value = np.zeros(net.n_edges)
    value[[5, 17]] = [3.0, -7.0]
    picked = maps._undirected_pick(net, value, max_edges=10)
    assert picked[0] == 17 and picked[1] == 5


# ------------------------------------------------------------------------------ template injection
#: text that Jinja2 would evaluate if it ever became template source (branca compiles Element(text))
TEMPLATE_PAYLOADS = [
    "Plan {{ 7*7 }}",
    "{{ cycler.__init__.__globals__.os.mkdir(dict(pwned=1)|first) }}",
    "{{ cycler.__init__.__globals__.os.popen(dict(id=1)|first).read() }}",
    "{% for i in range(3) %}LOOP{% endfor %}",
    "{# hidden #}comment",
    "100% {{ config }}",
]


def _assert_inert(text: str, cwd) -> None:
    assert "Plan 49" not in text and "uid=" not in text and "LOOPLOOP" not in text
    assert not (cwd / "pwned").exists(), "a street name ran code while the map was written"
    for p in TEMPLATE_PAYLOADS[:2]:  # the title and the first zone / street name are drawn
        assert esc(p) in text, f"{p!r} was not drawn as text"


def test_no_text_is_compiled_as_a_template_on_the_snelfietspad_map(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = TEMPLATE_PAYLOADS + PAYLOADS
    res = _scenario(names=names, zone_names=TEMPLATE_PAYLOADS[:2])
    for net in (res.before, res.after):  # the network's source is shown: a file name is text too
        net.meta = {"source": TEMPLATE_PAYLOADS[2] + ".osm.pbf", "generated": False}
    res.summary.update(route_name=TEMPLATE_PAYLOADS[0], note=TEMPLATE_PAYLOADS[3], generated=False)
    res.summary[TEMPLATE_PAYLOADS[4]] = TEMPLATE_PAYLOADS[5]  # a key shown in the summary table
    path = tmp_path / "s.html"
    maps.snelfietspad_map(res, path, title=TEMPLATE_PAYLOADS[1], tiles=None)
    _assert_inert(path.read_text(), tmp_path)


def test_no_text_is_compiled_as_a_template_on_the_hubs_map(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    net = grid_network(names=TEMPLATE_PAYLOADS)
    net.meta = {"source": TEMPLATE_PAYLOADS[2], "generated": True}
    cands = hubs.hub_candidates(
        net.x[::8], net.y[::8], names=[TEMPLATE_PAYLOADS[i % 6] for i in range(len(net.x[::8]))]
    )
    pop = np.ones(net.n_nodes)
    pl = hubs.place_hubs(net, cands, pop, k=3, minutes=3, method="exact")
    cat = hubs.hub_catchments(net, pl.hubs, minutes=(2, 4), population=pop)
    path = tmp_path / "h.html"
    maps.hubs_map(pl, cat, path, net=net, title=TEMPLATE_PAYLOADS[1], tiles=None)
    text = path.read_text()
    assert "Plan 49" not in text and "uid=" not in text
    assert not (tmp_path / "pwned").exists()
    for p in TEMPLATE_PAYLOADS[:2]:
        assert esc(p) in text


def test_raw_html_is_data_not_a_template():
    from fietsstad.maps._style import raw_html

    for p in TEMPLATE_PAYLOADS:
        assert raw_html(p).render() == p  # written verbatim, never evaluated
        e = esc(p)
        assert "{" not in e and "}" not in e and "%" not in e


# ------------------------------------------------------------------------------ for people
def _hubs_fixture():
    net = grid_network()
    cands = hubs.hub_candidates(net.x[::6], net.y[::6])
    pop = np.arange(net.n_nodes, dtype=float) * 1234.56789  # numbers that need rounding
    pl = hubs.place_hubs(net, cands, pop, k=3, minutes=3, method="exact")
    cat = hubs.hub_catchments(net, pl.hubs, minutes=(2, 4), population=pop)
    return net, pl, cat


def test_every_map_has_an_html_title():
    net, pl, cat = _hubs_fixture()
    text = _html(maps.hubs_map(pl, cat, net=net, tiles=None))
    assert "<title>Mobility hubs: 3 new hub(s), exact placement</title>" in text
    text = _html(maps.snelfietspad_map(_scenario(), tiles=None))
    assert "<title>Snelfietspad scenario: Test route</title>" in text
    # a hostile title is escaped in <title> too, and stays text
    text = _html(maps.snelfietspad_map(_scenario(), tiles=None, title=PAYLOADS[4]))
    assert f"<title>{esc(PAYLOADS[4])}</title>" in text


def _panel(text: str, name: str) -> str:
    start = text.index(f'class="fietsstad-{name}"')
    return text[start : text.index("</table>", start)]


def test_hubs_map_has_a_legend_for_every_layer():
    net, pl, cat = _hubs_fixture()
    text = _html(maps.hubs_map(pl, cat, net=net, tiles=None, population_label="inhabitants"))
    panel = _panel(text, "curve")
    for entry in (
        "Hub sites",
        "Chosen new hub",
        "Candidate site not chosen",
        "Catchments (area reached from a hub)",
        "within 2 min by bike",
        "within 4 min by bike",
        "Population (inhabitants) per 300 m cell",
        "within 3 min of a hub",
        "not covered",
    ):
        assert entry in panel, entry
    # each colour drawn on the map has its swatch in the legend
    for color in (maps.HUB_COLOR, maps.CANDIDATE_COLOR, maps.COVERED_COLOR, maps.UNCOVERED_COLOR):
        assert f"background:{color}" in panel
    assert "inhabitants within 3 min" in text


def test_snelfietspad_legend_and_labels_for_people():
    res = _scenario()
    res.summary.update(bike_share_change_pp=0.123456, network_source="generated")
    text = _html(maps.snelfietspad_map(res, tiles=None))
    panel = _panel(text, "legend")
    assert "Corridor" in panel and "Snelfietspad corridor (after)" in panel
    assert "Change in bike share (percentage points)" in panel and "0.12" in panel
    assert "bike_share_change_pp" not in text and "route_length_km" not in text


def _new_link_scenario():
    """The shipped Dalfsen-Zwolle route on a generated network: existing streets + 2 new links."""
    import fietsstad
    from fietsstad.scenario import evaluate_snelfietspad

    return evaluate_snelfietspad(fietsstad.generate_network(1500, seed=4), "Dalfsen-Zwolle")


def test_before_and_after_compare_the_same_streets_new_links_apart():
    res = _new_link_scenario()
    assert res.summary["edges_added"] > 0  # the route needs new links
    text = _html(maps.snelfietspad_map(res, tiles=None))
    names = re.findall(r'"name": "([^"]*)"', text) + re.findall(
        r"(Before: [^<\"]*|After: [^<\"]*)", text
    )
    before = next(n for n in names if n.startswith("Before: corridor streets"))
    after = next(n for n in names if n.startswith("After: corridor streets"))
    new = next(n for n in names if n.startswith("After: new links"))
    t_before = maps._match_before(res.before, res.after)
    route = np.asarray(res.route_edges)
    old = route[~np.isnan(t_before[route])]
    added = route[np.isnan(t_before[route])]
    assert len(old) and len(added)
    # the same streets before and after: the after sum is over exactly the before streets
    assert maps.st.fmt_seconds(np.nansum(t_before[old])) in before
    assert maps.st.fmt_seconds(res.after.travel_time[old].sum()) in after
    assert res.after.travel_time[old].sum() <= np.nansum(t_before[old])  # upgraded: not slower
    assert maps.st.fmt_seconds(res.after.travel_time[added].sum()) in new
    assert f"{len(added)} edges" in new


_LONG_NUMBER = re.compile(r"\d[\d,]*\.\d{4,}|\d{4,}\.\d")


def _people_text(text: str) -> list[str]:
    """Tooltips, GeoJSON tips and panels: the text people read (not coordinates or scripts)."""
    tips = re.findall(r"bindTooltip\(\s*`(.*?)`", text, flags=re.S)
    tips += re.findall(r'"tip": "(.*?)"', text)
    panels = re.findall(
        r'<div class="fietsstad-[a-z]+".*?</div>\s*</div>|<table>.*?</table>', text, flags=re.S
    )
    return tips + panels


def test_numbers_are_rounded_for_people():
    net, pl, cat = _hubs_fixture()
    texts = _people_text(_html(maps.hubs_map(pl, cat, net=net, tiles=None)))
    res = _scenario()
    res.zones["accessibility_before"] = [1234567.891234, 20.123456]
    res.summary["minutes_saved_per_day"] = 7654321.123456
    texts += _people_text(_html(maps.snelfietspad_map(res, tiles=None)))
    assert len(texts) > 10
    bad = [t for t in texts if _LONG_NUMBER.search(t)]
    assert not bad, bad[0][:500]
    assert maps.st.fmt(1234567.891234, 3) == "1,234,568"


def test_leaflet_files_are_package_data():
    """The installed package carries every Leaflet file (in CI: a wheel built from pyproject)."""
    from importlib import resources

    folder = resources.files("fietsstad.maps._leaflet")
    names = {p.name for p in folder.iterdir()}
    assert {"leaflet.js", "leaflet.css", "LICENSE"} <= names
    pngs = [p.name for p in folder.joinpath("images").iterdir() if p.name.endswith(".png")]
    assert len(pngs) == 5
    assert "BSD 2-Clause" in folder.joinpath("LICENSE").read_text()
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        return
    from conftest import REPO

    conf = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert not [d for d in conf["project"]["dependencies"] if "leaflet" in d.lower()]


_LAYOUT = (
    "<script>window.addEventListener('load',function(){setTimeout(function(){"
    "var s=document.querySelector('.leaflet-control-scale').getBoundingClientRect();"
    "var out=[];document.querySelectorAll('[class^=fietsstad-]').forEach(function(el){"
    "var r=el.getBoundingClientRect();"
    "var hit=!(r.right<=s.left||r.left>=s.right||r.bottom<=s.top||r.top>=s.bottom);"
    "out.push(el.className+':'+(hit?1:0));});"
    "var d=document.createElement('div');d.id='fietsstad-probe';"
    "d.setAttribute('data-errors','[]');d.setAttribute('data-panes','0');"
    "d.setAttribute('data-xss','0');d.setAttribute('data-layout',out.join(' '));"
    "document.body.appendChild(d);},300);});</script>"
)


@pytest.mark.parametrize("kind", ["hubs", "snelfietspad"])
def test_panels_never_cover_the_scale_bar_in_chromium(kind, tmp_path):
    exe = _chromium()
    if exe is None:
        pytest.skip("Chromium not found (Debian package 'chromium'): layout not checked")
    path = tmp_path / f"{kind}.html"
    if kind == "hubs":
        net, pl, cat = _hubs_fixture()
        maps.hubs_map(pl, cat, path, net=net, tiles=None)
    else:
        maps.snelfietspad_map(_scenario(), path, tiles=None)
    dom, log = _render(exe, path, tmp_path, report=_LAYOUT)
    layout = re.search(r'data-layout="([^"]*)"', dom)
    assert layout, log[-2000:]
    boxes = layout.group(1).split()
    assert any(b.startswith("fietsstad-title") for b in boxes) and len(boxes) >= 2, boxes
    assert all(b.endswith(":0") for b in boxes), boxes
