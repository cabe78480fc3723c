"""A griffe extension for the API reference: fietsstad's ``Example`` sections are examples.

fietsstad's docstrings title their doctest section ``Example`` (numpydoc says ``Examples``);
griffe's numpy parser would render it as an admonition of plain Markdown, where ``>>> x[0]`` reads
as a quote and a link. This renames the heading before parsing, so the examples render as code.
Loaded by ``mkdocs.yml`` (mkdocstrings ``extensions``); the doctests themselves run in
``tests/test_docstrings.py``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^([ \t]*)Example[ \t]*\n([ \t]*)-{7,}[ \t]*\n", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename every ``Example``/``-------`` heading to ``Examples``/``--------``."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:  # noqa: D102
        if obj.docstring is not None:
            obj.docstring.value = _EXAMPLE.sub(r"\1Examples\n\2--------\n", obj.docstring.value)
