"""Variants traced together give every variant's own formulas.

The result sheets trace the variants whose inputs are alike in one pass
(``Live.formulas_many``, ``xlmodel.engine.symbolic.batch``): one trace over
arrays of their values, its cells tokens rendered for each variant. Here every
batch of a compute is checked against tracing each of its requests alone
(``Live.formulas``): formula, guards, error branch, precedence and value, bit
for bit, over random variants whose decisions differ (the reticle, blanks
taking their defaults, node-table fills, the physical preset, leakage feedback).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from xlmodel.engine import prepare, symbolic
from xlmodel.engine.symbolic import Disagree, Expr, render, token, trace
from xlmodel.pipeline import compute
from xlmodel.schema import BY_NAME, SEED_VARIANTS
from xlmodel.workbook.inputs import coefficients
from xlmodel.workbook.results import live
from xlmodel.workbook.template import fill_workbook

DRAWN = [
    p
    for p in BY_NAME.values()
    if p.section == "variant" and p.numeric and p.used and p.name != "num_chiplets"
]
NODE_GIVEN = {
    "wafer_price_usd": 20000.0,
    "defect_density_per_cm2": 0.1,
    "mask_set_usd": 2.5e7,
}


def _draw(rng, p) -> float:
    lo, hi = float(p.minimum), float(p.maximum)
    low = lo if lo > 0 else min(1.0, hi)
    if hi / low > 100:
        x = math.exp(rng.uniform(math.log(low), math.log(hi)))
    else:
        x = rng.uniform(lo, hi)
    return float(min(max(round(x), lo), hi)) if p.kind == "int" else float(x)


def _variants(rng, n: int) -> dict:
    """``n`` variants: a few inputs drawn, others blank (their defaults), the
    node's costs given for two in three, one die within the reticle for half."""
    out = {}
    for j in range(n):
        v = {p.name: _draw(rng, p) for p in DRAWN if rng.random() < 0.3}
        if j % 3:
            v.update(NODE_GIVEN)
        if j % 2:
            v.update(num_chiplets=1, chiplet_area_mm2=400.0)
        else:
            v.setdefault("num_chiplets", float(rng.integers(2, 9)))
        out[f"V{j:02d}"] = v
    return out


def _same(a, b) -> bool:
    if isinstance(a, Expr) or isinstance(b, Expr):
        if not (isinstance(a, Expr) and isinstance(b, Expr)):
            return False
        va, vb = np.asarray(a.value), np.asarray(b.value)
        return (
            (a.f, a.prec, a.guards, a.fallible, a.why)
            == (b.f, b.prec, b.guards, b.fallible, b.why)
            and va.dtype == vb.dtype
            and va.tobytes() == vb.tobytes()
        )
    if a is None or b is None:
        return a is b
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


@pytest.fixture
def checked(monkeypatch):
    """Every batch of the computes checked against tracing alone; the sizes of
    the batches traced."""
    sizes: list[int] = []
    many, batch = live.Live.formulas_many, live.Live._batch

    def formulas_many(self, requests):
        requests = list(requests)
        got = many(self, requests)
        for req, out in zip(requests, got):
            alone = self.formulas(*req)
            assert list(out) == list(alone)
            for name in alone:
                assert _same(out[name], alone[name]), (req[0], name)
        return got

    def counted(self, requests, members, out):
        sizes.append(len(members))
        return batch(self, requests, members, out)

    monkeypatch.setattr(live.Live, "formulas_many", formulas_many)
    monkeypatch.setattr(live.Live, "_batch", counted)
    return sizes


def _book(tmp_path, variants: dict, settings: dict | None = None):
    path = tmp_path / "v.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    sheets = fill_workbook(wb, variants)
    rows = coefficients.rows()
    for name, value in (settings or {}).items():
        sheets["Coefficients"].write(rows[name], 1, value)
    wb.close()
    return path


@pytest.mark.parametrize(
    "seed, settings",
    [
        (1, {}),
        (2, {"power_preset": "physical"}),
        (3, {"leakage_temp_coeff_per_c": 0.025, "leakage_w_per_mm2": 0.05}),
        (4, {"cooling": "liquid"}),
    ],
    ids=["seed", "physical", "feedback", "liquid"],
)
def test_a_batch_gives_each_variant_its_own_formulas(tmp_path, checked, seed, settings):
    rng = np.random.default_rng(seed)
    compute(_book(tmp_path, _variants(rng, 24), settings), export_dir=None)
    # variants were traced together, and batches split where decisions differed
    assert max(checked) > 1
    assert len(checked) > 4


def test_the_template_traces_each_sheet_in_one_batch(tmp_path, checked):
    compute(_book(tmp_path, dict(SEED_VARIANTS)), export_dir=None)
    # Performance, Summary, Cost: five variants each; Power: five at three
    # utilisations; the seed variants take the same decisions
    assert sorted(checked) == [5, 5, 5, 15]


def _batch_leaves(columns: dict) -> tuple[dict, list[str]]:
    """The Baseline's inputs for a batch: every number a token leaf (its value
    repeated, or the batch's values of ``columns``); the tokens' names."""
    x = prepare(pd.DataFrame([SEED_VARIANTS["Baseline"]]))
    n = len(next(iter(columns.values())))
    leaves, names = {}, []
    for k, a in x.items():
        a = np.asarray(a)[:1]
        if a.dtype.kind != "f":
            leaves[k] = a
            continue
        values = np.asarray(columns.get(k, np.repeat(a, n)), np.float64)
        leaves[k] = Expr(token(len(names)), values)
        names.append(k)
    return leaves, names


def test_a_decision_that_differs_names_the_variants_on_each_side():
    leaves, _ = _batch_leaves(
        {"num_chiplets": [1.0, 4.0, 1.0], "chiplet_area_mm2": [400.0, 400.0, 900.0]}
    )
    with symbolic.batch(3), pytest.raises(Disagree) as err:
        trace(leaves, ["monolithic_die_yield"])
    # one die of 400 mm² fits the reticle (858 mm²), four or one of 900 do not
    assert err.value.mask.tolist() in ([True, False, False], [False, True, True])


def test_a_rendered_batch_is_each_variants_trace():
    clocks = [1500.0, 1800.0, 2100.0]
    names = ["peak_fp16_tflops", "power_total_w", "unit_cost_usd", "junction_temp_c"]
    leaves, slots = _batch_leaves({"clock_mhz": clocks})
    with symbolic.batch(3):
        got = trace(leaves, names)
    for i in range(len(clocks)):
        texts = [f"'Variants'!$X${k}_{i}" for k in slots]
        one = {
            k: Expr.leaf(texts[slots.index(k)], e.value[i])
            if isinstance(e, Expr)
            else e
            for k, e in leaves.items()
        }
        want = trace(one, names)
        for name in names:
            assert isinstance(want[name], Expr)
            assert _same(render(got[name], texts, i), want[name]), name
