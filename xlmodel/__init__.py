"""xlmodel: performance, power and scaling models of chiplet-based AI accelerators."""

from .engine import METRICS, evaluate
from .schema import PARAMETERS, Precision
from .seed.config import ChipletConfig, SMConfig, SoCConfig
from .seed.models import PerformanceModel, PowerModel, ScalingModel
from .studies.inference import reference_chips, serve

__version__ = "0.1.0"

__all__ = [
    "ChipletConfig",
    "METRICS",
    "PARAMETERS",
    "PerformanceModel",
    "PowerModel",
    "Precision",
    "SMConfig",
    "ScalingModel",
    "SoCConfig",
    "evaluate",
    "reference_chips",
    "serve",
]
