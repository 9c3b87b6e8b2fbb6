"""Pure numpy equations of the model: no I/O, no Excel."""

from .inputs import prepare
from .model import METRIC_UNITS, METRICS, evaluate, evaluate_arrays

__all__ = ["METRICS", "METRIC_UNITS", "evaluate", "evaluate_arrays", "prepare"]
