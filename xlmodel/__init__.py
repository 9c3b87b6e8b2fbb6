"""xlmodel: performance, power and scaling models of chiplet-based AI accelerators.

The public names below are imported on first use (PEP 562), so ``import xlmodel``
and the ``xlmodel`` command start without numpy and pandas until a name or a
command needs them.
"""

from __future__ import annotations

import importlib
import importlib.util

__version__ = "0.1.0"

#: public name -> the module that defines it
_PUBLIC = {
    "ChipletConfig": "xlmodel.seed.config",
    "METRICS": "xlmodel.engine",
    "PARAMETERS": "xlmodel.schema",
    "PerformanceModel": "xlmodel.seed.models",
    "PowerModel": "xlmodel.seed.models",
    "Precision": "xlmodel.schema",
    "SMConfig": "xlmodel.seed.config",
    "ScalingModel": "xlmodel.seed.models",
    "SoCConfig": "xlmodel.seed.config",
    "evaluate": "xlmodel.engine",
    "reference_chips": "xlmodel.studies.inference",
    "serve": "xlmodel.studies.inference",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}"):
        value = importlib.import_module(f"{__name__}.{name}")  # xlmodel.engine etc.
    else:
        raise AttributeError(f"module 'xlmodel' has no attribute {name!r}")
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
