"""Modules imported on their first use: ``from xlmodel.lazy import pd``.

pandas takes about a third of a second to import. The modules the input
checks pass through (the studies' setup types and constants, the engine's
node table) refer to it as ``pd`` like any module, but through this proxy,
which imports pandas the first time one of its names is looked up: checking a
workbook (``xlmodel validate``) never builds a DataFrame and so never pays for
it, while computing one imports it at its first table.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class LazyModule:
    """A stand-in for the module ``name``, imported at the first attribute look-up."""

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        # Only for names not looked up before: each is kept on the proxy, so that
        # later look-ups cost what a module attribute costs.
        if attr.startswith("__"):
            raise AttributeError(attr)
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        value = getattr(module, attr)
        setattr(self, attr, value)
        return value

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


#: pandas, imported on first use.
pd = LazyModule("pandas")
