"""LLM serving studies: models, reference chips as variants, ``serve`` and the table.

``models.csv`` (xlmodel/data) holds transformer definitions of public open models;
:func:`serve` runs one model and scenario on every variant; :func:`inference_table`
runs variants x models x scenarios in one vectorised pass, one row each, for the
Inference sheet. The equations are in :mod:`xlmodel.engine.inference`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import numpy as np

from ..csvfile import is_blank, lines, read_user_csv, shown_value
from ..engine import evaluate_arrays, prepare
from ..engine.inference import (
    BYTES_PER_ELEMENT,
    MODEL_FIELDS,
    PRECISION_CODES,
    parameter_counts,
    serve_arrays,
)
from ..lazy import pd
from ..schema import DEFAULTS
from .reference import apply_power_preset, load_chips, to_variants

# Allowed difference between the parameter count of a definition and the published one.
PARAMS_TOLERANCE = 0.02

# Output columns of serve / inference_table: (name, unit, meaning).
SERVE_METRICS: tuple[tuple[str, str, str], ...] = (
    (
        "fits",
        "bool",
        "Weights and the KV cache of at least one request (of the batch "
        "asked for) fit in HBM",
    ),
    ("max_batch", "sequences", "Largest batch whose weights + KV cache fit in HBM"),
    (
        "batch",
        "sequences",
        "Batch served (the one asked for, or the largest that "
        "fits up to inference_max_batch)",
    ),
    (
        "output_tokens_per_s",
        "tokens/s",
        "Steady-state output tokens per second of the tp packages together",
    ),
    ("output_tokens_per_s_per_package", "tokens/s", "Output tokens/s per package"),
    (
        "output_tokens_per_s_per_user",
        "tokens/s",
        "1 / TPOT: one request's decode speed",
    ),
    ("ttft_s", "s", "Time to first token: the prefill of the batch (no queueing)"),
    ("tpot_s", "s", "Time per output token: one decode step of the batch"),
    ("request_latency_s", "s", "TTFT + (output tokens - 1) x TPOT"),
    (
        "prefill_bound",
        "text",
        "Resource binding the prefill: compute, memory or interconnect",
    ),
    (
        "decode_bound",
        "text",
        "Resource binding the decode: compute, memory or interconnect",
    ),
    (
        "tokens_per_s_per_w",
        "tokens/s/W",
        "Output tokens/s over the power of the tp "
        "packages, each phase at its own utilisation",
    ),
    (
        "output_tokens_per_s_per_usd",
        "tokens/s/USD",
        "Output tokens/s of the tp packages over tp x unit cost (USD per good "
        "package + NRE per unit); NaN where the cost is unknown",
    ),
    ("power_prefill_w", "W", "Package power during prefill"),
    ("power_decode_w", "W", "Package power during decode"),
    ("power_average_w", "W", "Package power averaged over a request's life"),
    ("weights_gb_per_package", "GB", "Weights held by one package"),
    (
        "kv_bytes_per_token_per_package",
        "B",
        "KV-cache bytes one token adds on one package",
    ),
    ("kv_cache_gb_per_package", "GB", "KV cache of the batch at full length"),
    ("hbm_usable_gb_per_package", "GB", "HBM capacity x inference_hbm_usable_fraction"),
    ("prefill_flops_per_package", "FLOP", "FLOPs of the batch's prefill"),
    ("prefill_hbm_bytes_per_package", "B", "HBM bytes of the batch's prefill"),
    ("prefill_link_bytes_per_package", "B", "Package-link bytes sent in the prefill"),
    ("prefill_d2d_bytes_per_package", "B", "Die-to-die bytes sent in the prefill"),
    ("prefill_compute_utilization", "0-1", "Achieved FLOP/s over peak, prefill"),
    (
        "prefill_memory_utilization",
        "0-1",
        "Achieved HBM bytes/s over bandwidth, prefill",
    ),
    ("decode_flops_per_package", "FLOP", "FLOPs of one decode step"),
    ("decode_hbm_bytes_per_package", "B", "HBM bytes of one decode step"),
    ("decode_link_bytes_per_package", "B", "Package-link bytes of one decode step"),
    ("decode_d2d_bytes_per_package", "B", "Die-to-die bytes of one decode step"),
    ("decode_compute_utilization", "0-1", "Achieved FLOP/s over peak, decode"),
    ("decode_memory_utilization", "0-1", "Achieved HBM bytes/s over bandwidth, decode"),
    ("decode_compute_s", "s", "Decode step time in compute-bound operators"),
    ("decode_memory_s", "s", "Decode step time in memory-bound operators"),
    ("decode_link_s", "s", "Decode step time in all-reduce"),
)
SERVE_METRIC_UNITS = {name: unit for name, unit, _ in SERVE_METRICS}

# Scenario fields (a Serving setup row); blank batch = the largest that fits.
SCENARIO_FIELDS = (
    "input_tokens",
    "output_tokens",
    "batch",
    "precision",
    "kv_precision",
    "activation_precision",
    "tp",
)

# Scenarios a Serving setup sheet starts with (TensorRT-LLM's and AMD's published
# benchmark lengths): DEFAULT_SCENARIOS, a DataFrame (index = scenario name) built
# on first use from these columns, so that importing this module needs no pandas.
_DEFAULT_SCENARIO_COLUMNS = {
    "input_tokens": [128, 2048, 1000, 20000, 128],
    "output_tokens": [2048, 128, 1000, 2000, 2048],
    "batch": [np.nan, np.nan, np.nan, np.nan, 8],
    "precision": ["FP8"] * 5,
    "kv_precision": [None] * 5,
    "activation_precision": [None] * 5,
    "tp": [1] * 5,
}
_DEFAULT_SCENARIO_NAMES = [
    "chat",
    "summarise",
    "balanced",
    "long context",
    "interactive",
]


def __getattr__(name: str):
    # DEFAULT_SCENARIOS, built once at its first look-up (PEP 562).
    if name == "DEFAULT_SCENARIOS":
        frame = pd.DataFrame(_DEFAULT_SCENARIO_COLUMNS, index=_DEFAULT_SCENARIO_NAMES)
        globals()[name] = frame
        return frame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- models --------------------------------------------------------------------------


def load_models(path=None) -> pd.DataFrame:
    """Read a model table (default: the shipped models.csv); index = model name.

    Raises
    ------
    ValueError
        A column is missing, a name repeats, or a value is not a whole number > 0
        (``tied_embeddings`` may be 0).
    """
    if path is None:
        with resources.files("xlmodel.data").joinpath("models.csv").open("rb") as f:
            table = pd.read_csv(f)
    else:
        table = read_user_models(path)
    missing = [c for c in ("name", *MODEL_FIELDS) if c not in table.columns]
    if missing:
        raise ValueError(f"model table lacks column(s): {', '.join(missing)}")
    table["name"] = table["name"].astype(str)
    if table["name"].duplicated().any():
        dup = table["name"][table["name"].duplicated()].iloc[0]
        raise ValueError(f"model table names {dup!r} twice")
    table = table.set_index("name")
    for name in table.index:
        _check_definition(table.loc[name], name)
    return table


def read_user_models(path) -> pd.DataFrame:
    """A user's model table at ``path``, read as Excel saves CSV in any region
    (:func:`xlmodel.csvfile.read_user_csv`): the columns of models.csv, the name
    in ``name`` or, as on the Models sheet, ``model``. Not checked:
    :func:`model_problems` says what in it cannot be served.

    Raises
    ------
    ValueError
        The file cannot be read as a table, or a column is missing (one line).
    """
    table = read_user_csv(path, "the model table", "models.csv")
    table.columns = [str(c).strip() for c in table.columns]
    if "name" not in table.columns and "model" in table.columns:
        table = table.rename(columns={"model": "name"})
    missing = [c for c in ("name", *MODEL_FIELDS) if c not in table.columns]
    if missing:
        raise ValueError(
            f"column(s) missing from the header line: {', '.join(missing)} (a "
            f"model needs name, {', '.join(MODEL_FIELDS)})"
        )
    return table


def model_problems(table: pd.DataFrame) -> list[tuple[int, str, object, str]]:
    """What in a model table (:func:`read_user_models`) cannot be served:
    (line of the file, column, value, what is expected), one per problem;
    empty when every row is a model."""
    out = []
    seen: dict[str, int] = {}
    for line, row in zip(lines(table), table.to_dict("records"), strict=True):
        raw = row.get("name")
        name = "" if is_blank(raw) else str(raw).strip()
        if not name:
            out.append((line, "name", "", "is blank: type the model's name"))
        elif name.casefold() in seen:
            out.append(
                (
                    line,
                    "name",
                    name,
                    f"names a model twice (also line {seen[name.casefold()]})",
                )
            )
        else:
            seen[name.casefold()] = line
        values = {}
        for column in MODEL_FIELDS:
            v = row.get(column)
            x = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
            low = 0 if column == "tied_embeddings" else 1
            if not (np.isfinite(x) and x >= low and x == round(x)):
                out.append(
                    (
                        line,
                        column,
                        shown_value(v),
                        f"is not a whole number, {low} or more",
                    )
                )
            else:
                values[column] = int(x)
        experts, active = values.get("experts"), values.get("active_experts")
        if experts is not None and active is not None and active > experts:
            out.append(
                (line, "active_experts", active, f"is more than experts ({experts})")
            )
        heads, kv = values.get("attention_heads"), values.get("kv_heads")
        if heads is not None and kv is not None and heads % kv:
            out.append(
                (line, "kv_heads", kv, f"does not divide attention_heads ({heads})")
            )
    return out


def model_warnings(table: pd.DataFrame, source: str) -> list[str]:
    """A warning per row of a user's model table (:func:`read_user_models`,
    without problems) whose definition's parameter count is more than
    ``PARAMS_TOLERANCE`` from its ``published_params_b``: the check the Models
    sheet makes; ``source`` names the file in the warning."""
    if "published_params_b" not in table.columns or not len(table):
        return []
    names = list(table["name"])
    return [
        f"{source} line {i + 2} published_params_b ({names[i]}): {text}"
        for i, text in count_mismatches(table)
    ]


def count_mismatches(models, shown=lambda v: f"{v:g}") -> list[tuple[int, str]]:
    """(row, what is wrong) for each model row whose definition's parameter
    count is more than ``PARAMS_TOLERANCE`` from its ``published_params_b``;
    ``shown`` writes the published figure. ``models`` as for
    :func:`parameter_errors`."""
    check = parameter_errors(models)
    out = []
    for i, published in enumerate(check["published_params_b"]):
        if np.isnan(published) or check["within_tolerance"][i]:
            continue
        out.append(
            (
                i,
                f"{shown(published)} B published, the definition gives "
                f"{check['computed_params_b'][i]:.2f} B "
                f"({check['error_percent'][i]:+.1f} %, more than the "
                f"±{PARAMS_TOLERANCE * 100:g} % tolerance); check the definition",
            )
        )
    return out


def _check_definition(row: Mapping, name) -> dict[str, float]:
    out = {}
    for field in MODEL_FIELDS:
        if field not in row:
            raise ValueError(f"model {name!r} lacks {field}")
        v = pd.to_numeric(pd.Series([row[field]]), errors="coerce").iloc[0]
        low = 0 if field == "tied_embeddings" else 1
        if not (np.isfinite(v) and v >= low and v == round(v)):
            raise ValueError(
                f"model {name!r} {field}: {row[field]!r} is not a whole number >= {low}"
            )
        out[field] = float(v)
    if out["active_experts"] > out["experts"]:
        raise ValueError(
            f"model {name!r}: active_experts {out['active_experts']:g} exceeds "
            f"experts {out['experts']:g}"
        )
    return out


@functools.lru_cache(maxsize=1)
def _shipped_models() -> pd.DataFrame:
    return load_models()


def model_definition(model) -> dict[str, float]:
    """A model as a dict of ``MODEL_FIELDS``: a name from models.csv, or a mapping
    (dict, Series) of the fields."""
    if isinstance(model, str):
        table = _shipped_models()
        if model not in table.index:
            raise ValueError(
                f"unknown model {model!r}; models.csv has: {', '.join(table.index)}"
            )
        return _check_definition(table.loc[model], model)
    if isinstance(model, Mapping | pd.Series):
        return _check_definition(model, dict(model).get("name", "given"))
    raise ValueError(f"model: {model!r} is neither a name nor a definition")


def parameter_check(models: pd.DataFrame | None = None) -> pd.DataFrame:
    """Parameter count from each definition beside the published one.

    Columns: ``computed_params_b``, ``active_params_b``, ``published_params_b``,
    ``error_percent``, ``within_tolerance`` (``PARAMS_TOLERANCE``).
    """
    models = _shipped_models() if models is None else models
    return pd.DataFrame(parameter_errors(models), index=models.index)


def parameter_errors(models) -> dict[str, np.ndarray]:
    """:func:`parameter_check`'s columns as arrays, one entry per model row.

    ``models``: a DataFrame or a :class:`~xlmodel.engine.table.Table` with the
    ``MODEL_FIELDS`` columns and optionally ``published_params_b`` (billions;
    NaN, blank or text: unknown, and the error is NaN). Needs no pandas.
    """
    c = parameter_counts(
        {f: np.asarray(models[f], dtype=np.float64) for f in MODEL_FIELDS}
    )
    given = models.get("published_params_b")
    n = len(c["total"])
    published = np.array(
        [_published(v) for v in given] if given is not None else [np.nan] * n,
        dtype=np.float64,
    )
    computed = c["total"] * 1e-9
    with np.errstate(divide="ignore", invalid="ignore"):
        err = (computed / published - 1) * 100
    return {
        "computed_params_b": computed,
        "active_params_b": c["active"] * 1e-9,
        "published_params_b": published,
        "error_percent": err,
        "within_tolerance": np.abs(err) <= PARAMS_TOLERANCE * 100,
    }


def _published(value) -> float:
    # A published parameter count, NaN when not a number (pandas.to_numeric
    # with errors="coerce").
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.number)):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return np.nan


# --- reference chips ---------------------------------------------------------------


#: A package's links to the others of a tensor-parallel group: links, GB/s per
#: link per direction (chip_links.csv's columns, and optional ones of a
#: reference table).
LINK_COLUMNS = ("nvlink_lanes", "nvlink_bandwidth_gbps_per_lane")


def load_links(path=None) -> pd.DataFrame:
    """Package-link counts and bandwidths of the reference chips (chip_links.csv)."""
    if path is None:
        with resources.files("xlmodel.data").joinpath("chip_links.csv").open("rb") as f:
            return pd.read_csv(f).set_index("chip")
    return pd.read_csv(Path(path)).set_index("chip")


def reference_chips(chips: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reference chips of chips.csv as variant rows (index: chip name).

    Built by :func:`xlmodel.studies.reference.to_variants`, plus
    ``hbm_capacity_gb_per_stack`` = hbm_capacity_gb / hbm_stacks, the package links
    (``LINK_COLUMNS``: the table's own where it has the columns and a chip's
    values, else chip_links.csv's, else the defaults), ``inference_chiplet_mode`` "unified" (every reference presents
    its dies as one device) and ``power_preset`` "physical" (the preset fitted on these
    chips' board power). An unpublished die area takes the default (area does not
    enter serving).
    """
    chips = load_chips() if chips is None else chips
    v = to_variants(chips)
    v["chiplet_area_mm2"] = v["chiplet_area_mm2"].fillna(DEFAULTS["chiplet_area_mm2"])
    cap = pd.to_numeric(chips.get("hbm_capacity_gb"), errors="coerce")
    v["hbm_capacity_gb_per_stack"] = (cap / chips["hbm_stacks"]).fillna(
        DEFAULTS["hbm_capacity_gb_per_stack"]
    )
    links = load_links()
    for col in LINK_COLUMNS:
        known = links[col].reindex(v.index)
        if col in chips.columns:  # the table's own, where it gives them
            own = pd.to_numeric(chips[col], errors="coerce").reindex(v.index)
            known = own.where(own > 0).fillna(known)
        v[col] = known.fillna(DEFAULTS[col]).astype(type(DEFAULTS[col]))
    v["inference_chiplet_mode"] = "unified"
    v["power_preset"] = "physical"
    return v


# --- scenarios and serving ---------------------------------------------------------


def _precision(value, what) -> str:
    name = str(value).upper()
    if name not in BYTES_PER_ELEMENT:
        raise ValueError(
            f"{what}: {value!r} is not a precision; expected one of "
            + ", ".join(BYTES_PER_ELEMENT)
        )
    return name


def _whole(value, what, low=1) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{what}: {value!r} is not a number") from None
    if not (np.isfinite(v) and v >= low and v == round(v)):
        raise ValueError(f"{what}: {value!r} is not a whole number >= {low}")
    return v


def scenario_arrays(scenarios: pd.DataFrame) -> dict[str, np.ndarray]:
    """Check scenario rows (``SCENARIO_FIELDS``) and return engine arrays."""
    out: dict[str, list] = {
        k: []
        for k in (
            "input_tokens",
            "output_tokens",
            "batch",
            "tp",
            "precision_code",
            "kv_precision_code",
            "activation_bytes",
        )
    }
    for label, row in scenarios.iterrows():
        where = f"scenario {label!r}"
        prec = _precision(row.get("precision"), f"{where} precision")
        kv = row.get("kv_precision")
        kv = prec if kv is None or pd.isna(kv) or kv == "" else kv
        kv = _precision(kv, f"{where} kv_precision")
        act = row.get("activation_precision")
        if act is None or pd.isna(act) or act == "":
            act = "FP32" if prec == "FP32" else "BF16"
        act = _precision(act, f"{where} activation_precision")
        batch = row.get("batch")
        blank = batch is None or (not isinstance(batch, str) and pd.isna(batch))
        out["input_tokens"].append(
            _whole(row.get("input_tokens"), f"{where} input_tokens")
        )
        out["output_tokens"].append(
            _whole(row.get("output_tokens"), f"{where} output_tokens")
        )
        out["batch"].append(np.nan if blank else _whole(batch, f"{where} batch"))
        out["tp"].append(_whole(row.get("tp", 1), f"{where} tp"))
        out["precision_code"].append(PRECISION_CODES[prec])
        out["kv_precision_code"].append(PRECISION_CODES[kv])
        out["activation_bytes"].append(BYTES_PER_ELEMENT[act])
    return {
        k: np.asarray(v, np.int64 if k.endswith("code") else np.float64)
        for k, v in out.items()
    }


def _variant_frame(variants) -> pd.DataFrame:
    if isinstance(variants, pd.DataFrame):
        return variants
    if isinstance(variants, pd.Series):
        return variants.to_frame().T
    if isinstance(variants, Mapping):
        values = dict(variants)
        if all(np.ndim(v) == 0 for v in values.values()):
            return pd.DataFrame({k: [v] for k, v in values.items()})
        return pd.DataFrame(values)
    raise ValueError("variants: expected a DataFrame of parameters (or a mapping)")


def inference_table(variants, models, scenarios: pd.DataFrame) -> pd.DataFrame:
    """Every variant x model x scenario in one vectorised pass.

    Parameters
    ----------
    variants : pandas.DataFrame
        One row per variant (as :func:`xlmodel.evaluate` takes); its index names them.
    models : sequence
        Model names from models.csv or definitions (mappings with a ``name``).
    scenarios : pandas.DataFrame
        One row per scenario, ``SCENARIO_FIELDS`` (``batch``, ``kv_precision`` and
        ``activation_precision`` may be blank; ``tp`` defaults to 1); its index names
        them.

    Blank wafer prices, defect densities and mask sets take the shipped process
    node table's values (fill them first for another table:
    :func:`xlmodel.engine.nodes.fill_process_nodes`).

    Returns
    -------
    pandas.DataFrame
        One row per (variant, model, scenario), columns ``variant``, ``model``,
        ``scenario``, the scenario's fields, then ``SERVE_METRICS``.
    """
    frame = _variant_frame(variants)
    defs, names = [], []
    for i, m in enumerate(models):
        defs.append(model_definition(m))
        if isinstance(m, str):
            names.append(m)
        else:
            names.append(str(dict(m).get("name", f"model {i + 1}")))
    scen = scenarios.copy()
    if "tp" not in scen:
        scen["tp"] = 1
    nv, nm, ns = len(frame), len(defs), len(scen)
    # row r = ((variant i) x models + model j) x scenarios + scenario k
    vi = np.repeat(np.arange(nv), nm * ns)
    mj = np.tile(np.repeat(np.arange(nm), ns), nv)
    sk = np.tile(np.arange(ns), nv * nm)
    res = serve_rows(frame, vi, defs, mj, scen, sk)
    out = pd.DataFrame(
        {
            "variant": np.asarray(frame.index, dtype=object)[vi],
            "model": np.asarray(names, dtype=object)[mj],
            "scenario": np.asarray(scen.index, dtype=object)[sk],
        }
    )
    for f in SCENARIO_FIELDS:
        if f in scen:
            out[f] = scen[f].to_numpy()[sk]
    for name, *_ in SERVE_METRICS:
        out[name] = res[name]
    return out


def serve_rows(frame, vi, defs, mj, scenarios, sk) -> dict[str, np.ndarray]:
    """The engine over rows r = (variant vi[r], model defs[mj[r]], scenario sk[r]).

    ``frame`` holds variant parameters (checked once, power preset applied),
    ``defs`` model definitions (:func:`model_definition`), ``scenarios`` the
    scenario rows. Returns the arrays of :func:`xlmodel.engine.inference.serve_arrays`.
    """
    x = prepare(apply_power_preset(frame))
    s = scenario_arrays(scenarios)
    xr = {k: np.asarray(v)[vi] for k, v in x.items()}
    mr = {f: np.array([d[f] for d in defs], float)[mj] for f in MODEL_FIELDS}
    sr = {k: v[sk] for k, v in s.items()}
    out = serve_arrays(xr, mr, sr)
    unit = evaluate_arrays(x, 1.0, ("unit_cost_usd",))["unit_cost_usd"][vi]
    spent = sr["tp"] * unit  # USD of the tp packages
    with np.errstate(divide="ignore", invalid="ignore"):
        out["output_tokens_per_s_per_usd"] = np.where(
            spent > 0,
            out["output_tokens_per_s"] / np.where(spent > 0, spent, 1),
            np.nan,
        )
    return out


def serve(
    variants,
    model,
    input_tokens,
    output_tokens,
    precision,
    batch=None,
    tp=1,
    kv_precision=None,
    activation_precision=None,
) -> pd.DataFrame:
    """Serve ``model`` on every variant: one row per variant (index as the variants').

    Parameters
    ----------
    variants : pandas.DataFrame or mapping
        Variant parameters, as :func:`xlmodel.evaluate` takes
        (:func:`reference_chips` gives real silicon).
    model : str or mapping
        A name from models.csv (``llama-3.1-70b``) or a definition.
    input_tokens, output_tokens : int
        Every request's prompt and generated length.
    precision : str
        Weights and compute: FP16, BF16, FP8, INT8, FP4 or FP32.
    batch : int, optional
        Sequences decoded together; None: the largest that fits (up to
        ``inference_max_batch``).
    tp : int
        Packages serving the model together (tensor parallel).
    kv_precision, activation_precision : str, optional
        KV cache (default: ``precision``) and activations (default BF16).

    Returns
    -------
    pandas.DataFrame
        ``SERVE_METRICS`` columns; a model that does not fit has ``fits`` False,
        throughputs 0 and latencies NaN.
    """
    frame = _variant_frame(variants)
    scen = pd.DataFrame(
        {
            "input_tokens": [input_tokens],
            "output_tokens": [output_tokens],
            "batch": [np.nan if batch is None else batch],
            "precision": [precision],
            "kv_precision": [kv_precision],
            "activation_precision": [activation_precision],
            "tp": [tp],
        },
        index=["scenario"],
    )
    table = inference_table(frame, [model], scen)
    result = table[[name for name, *_ in SERVE_METRICS]]
    result.index = frame.index
    return result


def batch_sweep(
    variants,
    model,
    input_tokens,
    output_tokens,
    precision,
    batches=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048),
    tp=1,
    kv_precision=None,
    activation_precision=None,
) -> pd.DataFrame:
    """Latency against throughput: every variant at every batch of ``batches``.

    One row per (variant, batch) with ``variant``, ``batch``, ``fits``,
    ``output_tokens_per_s``, ``output_tokens_per_s_per_user``, ``ttft_s``,
    ``tpot_s``, ``decode_bound``; batches that do not fit have ``fits`` False (the
    points a latency-throughput chart leaves out).
    """
    scen = pd.DataFrame(
        {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "batch": [float(b) for b in batches],
            "precision": precision,
            "kv_precision": kv_precision,
            "activation_precision": activation_precision,
            "tp": tp,
        },
        index=[f"batch {b}" for b in batches],
    )
    t = inference_table(variants, [model], scen)
    cols = [
        "variant",
        "batch",
        "fits",
        "output_tokens_per_s",
        "output_tokens_per_s_per_user",
        "ttft_s",
        "tpot_s",
        "decode_bound",
    ]
    out = t[cols].copy()
    out["batch"] = scen["batch"].to_numpy()[
        np.tile(np.arange(len(scen)), len(t) // len(scen))
    ]
    return out
