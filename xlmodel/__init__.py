"""xlmodel: performance, power and scaling models of chiplet-based AI accelerators."""

from .config import ChipletConfig, SMConfig, SoCConfig
from .engine import METRICS, evaluate
from .models import PerformanceModel, PowerModel, ScalingModel
from .schema import PARAMETERS, Precision

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
]
