"""Every docstring example in the package runs as a doctest (the API reference shows them)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

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
