"""What every result sheet of one run shares: the variants to chart and their labels.

:class:`Context` holds the workbook, the results and the run information, the
variants the charts show (:func:`chart_variants`) with one colour and one short
label each (:func:`chart_labels`), the targets every sheet quotes, and the cache
of cell formats (one xlsxwriter format per set of properties).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xlsxwriter

from ...labels import short_labels
from ...studies.explore import quantity_unit
from ...studies.run import Results
from .. import charts as ch
from ..charts import Span
from .formats import CELL_POINTS, at_precision, ops_unit

CHART_VARIANT_LIMIT = 12
CHART_LABEL_CHARS = 24  # longer variant names are shortened in charts


def chart_variants(results: Results, limit: int = CHART_VARIANT_LIMIT) -> list[str]:
    """The variants the charts show, in input order: all, or the ``limit`` best.

    Parameters
    ----------
    results : xlmodel.studies.run.Results
    limit : int
        Most variants a chart shows.

    Returns
    -------
    list of str
        Every variant when there are at most ``limit``; otherwise the ``limit``
        ranked first by: every target met, within the power budget, highest
        target density.
    """
    t = results.comparison.table
    if len(t) <= limit:
        return [str(v) for v in t.index]
    key = pd.DataFrame(
        {
            "all": t["meets_all_targets"].astype(bool),
            "budget": t["meets_power_budget"].astype(bool),
            "density": t["target_density_tflops_per_mm2"].fillna(-np.inf),
            "order": np.arange(len(t)),
        },
        index=t.index,
    )
    ranked = key.sort_values(
        ["all", "budget", "density", "order"],
        ascending=[False, False, False, True],
        kind="stable",
    )
    chosen = ranked.iloc[:limit].sort_values("order")
    return [str(v) for v in chosen.index]


def chart_labels(names: list[str], limit: int = CHART_LABEL_CHARS) -> dict[str, str]:
    """Unique chart labels (:func:`xlmodel.labels.short_labels`), at most
    ``limit`` characters."""
    return short_labels(names, limit)


@dataclass
class Context:
    """One run's results, the variants charted, their colours and labels, formats."""

    workbook: xlsxwriter.Workbook
    results: Results
    info: dict
    formats: dict = field(default_factory=dict)
    _given: dict = field(default_factory=dict, repr=False)  # fmt's look-up by order
    #: what the sheets share, made once (the live formulas' leaves: ``.live.Live.of``)
    shared: dict = field(default_factory=dict)

    def __post_init__(self):
        r = self.results
        self.precision = str(r.study.targets["target_precision"])
        self.ops = ops_unit(self.precision)  # TFLOPS, or TOPS for INT8
        self.plotted = chart_variants(r)
        self.colors = {
            v: ch.PALETTE[i % len(ch.PALETTE)] for i, v in enumerate(self.plotted)
        }
        self.variants = [str(v) for v in r.metrics.index]
        self.capped = len(self.plotted) < len(self.variants)
        self.labels = chart_labels(self.plotted)
        self.shortened = any(self.labels[v] != v for v in self.plotted)
        t = r.study.targets
        # the first variant's targets; a variant may have its own (a row of its
        # name on Variants): the per-variant values, by variant
        self.density_target = float(t["density_target_tflops_per_mm2"])
        self.budget = float(t["power_budget_w"])
        self.tj_max = float(t["tj_max_c"])

    def varies(self, name: str) -> bool:
        """Whether the target ``name`` differs between the variants."""
        return self.results.study.target_spread(name) is not None

    def limit_text(self, name: str, unit: str) -> str:
        """A target in words: ``500 W``, or ``300-700 W (per variant)``."""
        spread = self.results.study.target_spread(name)
        if spread is None:
            return f"{float(self.results.study.targets[name]):g} {unit}"
        return f"{spread[0]:g}-{spread[1]:g} {unit} (per variant)"

    def series_name(self, name: str, cell: Span) -> Span | str:
        """The legend name of a variant's series: its cell, or its short label."""
        label = self.labels.get(name, name)
        return cell if label == name else label

    def fmt(self, **props):
        """A cached cell format with ``props`` (xlsxwriter format properties).

        Looked up by the properties in the order given first (a table asks for
        the same few formats thousands of times, in the same order), then in
        any order: the same properties are always the same format."""
        given = tuple(props.items())
        made = self._given.get(given)
        if made is not None:
            return made
        key = tuple(sorted(given))
        made = self.formats.get(key)
        if made is None:
            base = {"font_size": CELL_POINTS, "valign": "top"}
            base.update(props)
            made = self.formats[key] = self.workbook.add_format(base)
        self._given[given] = made
        return made

    def cap_note(self, what: str) -> str:
        return (
            f"{what} show {len(self.plotted)} of {len(self.variants)} variants: "
            "those meeting every target, then within the power budget, then by "
            "target density. The tables hold every variant."
        )

    def quantity_label(self, name: str) -> str:
        """A quantity as an axis or column title, with its unit."""
        p = self.precision
        known = {
            "target_density_tflops_per_mm2": f"{p} density",
            "target_peak_tflops": f"Peak {p}",
            "tflops_per_w": f"{p} TFLOPS/W",
            "power_total_w": "Power",
            "junction_temp_c": "Tj",
            "total_area_mm2": "Total compute area",
        }
        unit = quantity_unit(name)
        if name.startswith("target_") or name == "tflops_per_w":
            unit = at_precision(unit, p)
        text = known.get(name, name)
        if name == "tflops_per_w":
            return f"{p} {self.ops}/W"
        return f"{text} ({unit})" if unit else text
