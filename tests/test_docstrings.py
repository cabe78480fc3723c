"""Every docstring example in the package runs as a doctest (the API reference shows them)."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import pkgutil
import re
import warnings

import pytest

import fietsstad

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(fietsstad.__path__, "fietsstad.")
    if not m.name.endswith("__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", ["fietsstad", *MODULES])
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    pytest.importorskip("dask.distributed") if name.startswith("fietsstad.distributed") else None
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    from fietsstad import settings

    for k, v in vars(settings).items():  # examples may change global knobs: undo afterwards
        if not k.startswith("_") and not callable(v):
            monkeypatch.setattr(settings, k, v)
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=FLAGS, verbose=False, report=True)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {name}"


# --- every public name has an example; doctest finds every example ----------------------------

PACKAGES = ["fietsstad"] + sorted(
    m.name for m in pkgutil.walk_packages(fietsstad.__path__, "fietsstad.") if m.ispkg
)
_EXAMPLE = re.compile(r"^[ \t]*Examples?[ \t]*\n[ \t]*-{7,}[ \t]*\n", re.MULTILINE)

#: Public names whose docstring has no example yet (issue #12). They belong to other layers'
#: owners; each runs as a non-strict xfail until its example lands (then delete it here).
NO_EXAMPLE_YET: set[str] = set()


def _is_code(obj) -> bool:
    """A function, class or numba dispatcher (not a constant, a preset instance or a module)."""
    return inspect.isclass(obj) or inspect.isroutine(obj) or hasattr(obj, "py_func")


def _public_code():
    seen = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for pkg in PACKAGES:
            try:
                mod = importlib.import_module(pkg)
            except ImportError:  # an optional extra (dask for fietsstad.distributed) is missing
                continue
            for name in getattr(mod, "__all__", ()):
                obj = getattr(mod, name)
                if _is_code(obj):
                    seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", (pkg, name, obj))
    return seen


_PUBLIC = _public_code()


def _has_example(doc: str | None) -> bool:
    m = _EXAMPLE.search(doc or "")
    return m is not None and ">>>" in (doc or "")[m.end() :]


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(w, marks=pytest.mark.xfail(reason="no example yet (issue #12)", strict=False))
        if w in NO_EXAMPLE_YET
        else w
        for w in sorted(_PUBLIC)
    ],
)
def test_every_public_name_has_an_example(where):
    pkg, name, obj = _PUBLIC[where]
    assert _has_example(inspect.getdoc(obj)), (
        f"{pkg}.{name} (defined as {where}) has no 'Example' section with a >>> line"
    )


def test_the_names_without_an_example_are_public_names():
    assert NO_EXAMPLE_YET <= set(_PUBLIC)


@pytest.mark.parametrize("name", ["fietsstad", *MODULES])
def test_doctest_collects_every_public_function_class_and_method(name):
    """Every example of a public function, class, method or property in a module runs: doctest
    finds it (a decorator that hides ``__module__``/``__globals__`` would silently skip it)."""
    pytest.importorskip("dask.distributed") if name.startswith("fietsstad.distributed") else None
    mod = importlib.import_module(name)
    found = {t.name for t in doctest.DocTestFinder().find(mod)}
    expected = set()
    for attr, obj in vars(mod).items():
        if attr.startswith("_") or not _is_code(obj) or getattr(obj, "__module__", None) != name:
            continue
        if ">>>" in (getattr(obj, "__doc__", None) or ""):
            expected.add(f"{name}.{attr}")
        if inspect.isclass(obj):
            for m_name, member in vars(obj).items():
                func = member.fget if isinstance(member, property) else member
                func = getattr(func, "__func__", func)  # classmethod / staticmethod
                if m_name.startswith("_") or not inspect.isroutine(func):
                    continue
                if ">>>" in (func.__doc__ or ""):
                    expected.add(f"{name}.{attr}.{m_name}")
    assert expected - found == set()


#: Examples whose every ``>>>`` line is a comment, so nothing runs (other layers' files).
ONLY_COMMENTS_YET: set[str] = set()


def test_no_example_is_only_comments():
    """``>>> # result.report()`` runs nothing: an example must run at least one statement."""
    empty = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ["fietsstad", *MODULES]:
            if (
                name.startswith("fietsstad.distributed")
                and importlib.util.find_spec("dask") is None
            ):
                continue
            for t in doctest.DocTestFinder().find(importlib.import_module(name)):
                if not t.examples and ">>>" in (t.docstring or ""):
                    empty.add(t.name)
    assert empty - ONLY_COMMENTS_YET == set()


def test_the_api_reference_has_every_layer():
    """docs/api/ documents every subpackage (mkdocs build --strict in CI renders it)."""
    from conftest import REPO

    text = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "docs" / "api").glob("*.md"))
    nav = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    for pkg in PACKAGES[1:]:
        # the command line is documented by `fietsstad --help`; `fietsstad.data` holds shipped
        # tables, not code (it is a package only in an installed, non-editable copy, as in CI)
        if pkg in ("fietsstad.cli", "fietsstad.data"):
            continue
        assert f"::: {pkg}" in text, f"no API page documents {pkg}"
    for page in (REPO / "docs" / "api").glob("*.md"):
        assert f"api/{page.name}" in nav, f"docs/api/{page.name} is not in mkdocs.yml's nav"
