"""LLM serving as array equations: FLOPs, bytes and link traffic per phase and operator.

Every array has one entry per row; a row is one variant serving one model in one
scenario (the studies broadcast variants x models x scenarios into rows). Counts are
per package unless named otherwise; a group of ``tp`` packages serves the model with
tensor parallelism, and (``inference_chiplet_mode`` = tensor_parallel) so do the
chiplets inside a package, over their UCIe links.

Model (per layer, h hidden, q = heads x head_dim, v = kv_heads x head_dim, f FFN size,
m FFN matrices (3 for SwiGLU), E experts of which k are active per token):

    attention weights   A = h q + 2 h v + q h          (Q, K, V, O projections)
    one expert's FFN    F = m h f
    router              R = h E (only when E > 1)
    linear FLOPs/token  2 x layers x (A + R + k F) + 2 x vocab x h (LM head)
    attention FLOPs     4 x heads x head_dim x layers x context   (QK^T and AV)
    KV cache / token    2 x kv_heads x head_dim x layers x KV bytes
    experts touched     E (1 - (1 - k/E)^t) by a pass of t tokens (uniform routing)

A phase is a sequence of operators run one after another (kernels do not overlap):
linear layers (weights, activations), attention (KV cache), all-reduce (links), and a
fixed overhead per forward pass. Each operator takes

    max(FLOPs / (peak x compute eff), bytes / (HBM bandwidth x memory eff))

(the all-reduce: traffic / (link bandwidth x link eff) + latency), plus fixed times
per forward pass and per sequence in it (host scheduling, sampling), and the phase
takes their sum; the phase is bound by the resource whose operators take most of it.
With one operator of each kind this is max(compute, memory, link) of the issue.

Serving in steady state at maximum throughput: ``batch`` requests of ``input_tokens``
in and ``output_tokens`` out are prefilled together (time to first token), then decoded
together for output_tokens - 1 steps (time per output token, at the mean context
input_tokens + output_tokens / 2). Output tokens per second of the group of packages
= batch x output_tokens / (TTFT + (output_tokens - 1) x TPOT).

Capacity: weights / tp + batch x (input + output) x KV bytes per token per package
<= HBM capacity x ``inference_hbm_usable_fraction``; embeddings and the LM head are held
at the activation precision (FP8 and FP4 checkpoints keep them in 16 bits).
"""

from __future__ import annotations

import numpy as np

from ..schema import PRECISIONS
from . import performance as perf
from . import power as pw
from .model import evaluate_arrays

MODEL_FIELDS = (
    "layers",
    "hidden_size",
    "attention_heads",
    "kv_heads",
    "head_dim",
    "ffn_size",
    "ffn_matrices",
    "vocab_size",
    "tied_embeddings",
    "experts",
    "active_experts",
)
# Bytes per element of each precision.
BYTES_PER_ELEMENT = {
    "FP4": 0.5,
    "FP8": 1.0,
    "INT8": 1.0,
    "FP16": 2.0,
    "BF16": 2.0,
    "FP32": 4.0,
}
PRECISION_CODES = {p.value: i for i, p in enumerate(PRECISIONS)}
BOUNDS = np.array(["compute", "memory", "interconnect"], dtype=object)


def parameter_counts(m) -> dict[str, np.ndarray]:
    """Parameters of a model definition by part (counts, not bytes).

    Keys: ``attention_per_layer``, ``expert_per_layer`` (one expert's FFN),
    ``router_per_layer``, ``norms_per_layer``, ``embedding``, ``lm_head`` (0 when tied),
    ``total``, ``active`` (per token: k experts).
    """
    h = np.asarray(m["hidden_size"], float)
    q = m["attention_heads"] * m["head_dim"]
    v = m["kv_heads"] * m["head_dim"]
    experts = np.asarray(m["experts"], float)
    attention = h * q + 2 * h * v + q * h
    expert = m["ffn_matrices"] * h * m["ffn_size"]
    router = np.where(experts > 1, h * experts, 0.0)
    norms = 2 * h
    embedding = m["vocab_size"] * h
    lm_head = np.where(np.asarray(m["tied_embeddings"]) > 0, 0.0, embedding)
    dense = attention + router + norms
    layers = m["layers"]
    total = layers * (dense + experts * expert) + embedding + lm_head + h
    active = layers * (dense + m["active_experts"] * expert) + embedding + lm_head + h
    return {
        "attention_per_layer": attention,
        "expert_per_layer": expert,
        "router_per_layer": router,
        "norms_per_layer": norms,
        "embedding": embedding,
        "lm_head": lm_head,
        "total": total,
        "active": active,
    }


def kv_bytes_per_token(m, kv_bytes):
    """KV-cache bytes one token adds, whole model: 2 x kv_heads x head_dim x layers x B."""
    return 2 * m["kv_heads"] * m["head_dim"] * m["layers"] * kv_bytes


def linear_flops_per_token(m):
    """FLOPs of the linear layers for one token, LM head excluded: 2 x active weights."""
    c = parameter_counts(m)
    return (
        2
        * m["layers"]
        * (
            c["attention_per_layer"]
            + c["router_per_layer"]
            + m["active_experts"] * c["expert_per_layer"]
        )
    )


def lm_head_flops_per_token(m):
    """FLOPs of the LM head (logits) for one output token: 2 x vocab x hidden."""
    return 2.0 * m["vocab_size"] * m["hidden_size"]


def attention_flops_per_token(m, context):
    """Attention FLOPs of one token attending to ``context`` tokens (QK^T and AV)."""
    return 4.0 * m["attention_heads"] * m["head_dim"] * m["layers"] * context


def experts_touched(m, tokens):
    """Expected distinct experts per layer that ``tokens`` tokens route to.

    Each token picks k of E experts, uniformly: E x (1 - (1 - k/E)^tokens); 1 for a
    dense model. Real routers are not uniform, so this is an upper estimate of the
    spread (and a lower one of the load on the busiest expert).
    """
    e = np.asarray(m["experts"], float)
    k = np.asarray(m["active_experts"], float)
    return e * (1.0 - np.power(1.0 - k / e, np.maximum(tokens, 1.0)))


def weight_bytes_read(m, touched, w_bytes, emb_bytes):
    """Weight bytes one forward pass reads, whole model: every dense weight, the
    touched experts and the LM head (the embedding table is looked up, not read)."""
    c = parameter_counts(m)
    dense = c["attention_per_layer"] + c["router_per_layer"]
    linear = m["layers"] * (dense + touched * c["expert_per_layer"])
    head = m["vocab_size"] * m["hidden_size"]  # LM head, or the tied embedding
    small = m["layers"] * c["norms_per_layer"] + m["hidden_size"]
    return linear * w_bytes + (head + small) * emb_bytes


def weight_bytes_stored(m, w_bytes, emb_bytes):
    """Bytes of all weights, whole model (embedding and LM head at ``emb_bytes``)."""
    c = parameter_counts(m)
    high = c["embedding"] + c["lm_head"]
    small = m["layers"] * c["norms_per_layer"] + m["hidden_size"]
    return (c["total"] - high - small) * w_bytes + (high + small) * emb_bytes


def activation_elements_per_token(m, ways):
    """Activation elements read and written per token per layer by one of ``ways``
    tensor-parallel shards: hidden-sized tensors are whole on every shard (inputs of
    the projections, partial outputs, norms and residuals), the rest is split."""
    h = np.asarray(m["hidden_size"], float)
    q = m["attention_heads"] * m["head_dim"]
    v = m["kv_heads"] * m["head_dim"]
    k = m["active_experts"]
    whole = (2 + 2 * k + 4) * h
    split = (q + 2 * v) + 2 * q + q + k * m["ffn_size"] * m["ffn_matrices"]
    return whole + split / ways


def serve_arrays(x, m, s, with_power=True) -> dict[str, np.ndarray]:
    """Serving metrics for every row.

    Parameters
    ----------
    x : dict of numpy.ndarray
        Prepared variant inputs (:func:`xlmodel.engine.prepare`), one entry per row,
        the power preset already applied.
    m : dict of numpy.ndarray
        Model definition, ``MODEL_FIELDS``, one entry per row.
    s : dict of numpy.ndarray
        Scenario: ``input_tokens``, ``output_tokens``, ``batch`` (NaN: the largest
        that fits, up to ``inference_max_batch``), ``tp`` (packages),
        ``precision_code``, ``kv_precision_code`` (indices into
        ``xlmodel.schema.PRECISIONS``), ``activation_bytes``.
    with_power : bool
        False skips the power model (power and tokens/s per W come back NaN), for
        fits that need only throughput.

    Returns
    -------
    dict of str to numpy.ndarray
        See ``SERVE_METRICS`` in xlmodel.studies.inference for names and units.
    """
    f64 = np.float64
    n = len(np.asarray(s["input_tokens"]))
    inp = np.asarray(s["input_tokens"], f64)
    out = np.asarray(s["output_tokens"], f64)
    tp = np.asarray(s["tp"], f64)
    a_bytes = np.asarray(s["activation_bytes"], f64)
    byte_table = np.array([BYTES_PER_ELEMENT[p.value] for p in PRECISIONS])
    w_code = np.asarray(s["precision_code"], np.int64)
    kv_code = np.asarray(s["kv_precision_code"], np.int64)
    w_bytes = byte_table[w_code]
    kv_b = byte_table[kv_code]
    emb_bytes = np.maximum(w_bytes, a_bytes)

    # --- the package: peaks, bandwidth, links -----------------------------------------
    n_chip = x["num_chiplets"]
    peaks = (
        np.stack(
            [
                perf.peak_tflops(
                    n_chip,
                    x["sms_per_chiplet"],
                    x["tensor_cores_per_sm"],
                    x[p.ops_param],
                    x["clock_mhz"],
                )
                for p in PRECISIONS
            ]
        )
        * 1e12
    )  # FLOP/s, [precision, row]
    rows = np.arange(n)
    # attention runs at the KV precision, FP8 where the cache is FP4 (no FP4 kernels)
    att_code = np.where(
        kv_code == PRECISION_CODES["FP4"], PRECISION_CODES["FP8"], kv_code
    )
    peak_lin = peaks[w_code, rows]
    peak_att = peaks[att_code, rows]
    bw = (
        perf.hbm_bandwidth_gbps(x["hbm_stacks"], x["hbm_bandwidth_gbps_per_stack"])
        * 1e9
    )
    unified = np.asarray(x["inference_chiplet_mode"] == "unified")
    base = evaluate_arrays(x, np.ones(n))
    scale = np.where(unified, base["scaling_efficiency"], 1.0)
    e_c = x["inference_compute_efficiency"]
    e_m = x["inference_memory_efficiency"]
    e_l = x["inference_link_efficiency"]
    chip_ways = np.where(unified, 1.0, n_chip)  # shards inside one package
    ways = tp * chip_ways
    d2d_bw = x["d2d_links_per_chiplet"] * x["ucie_bandwidth_gbps"] * 1e9
    pkg_bw = x["nvlink_lanes"] * x["nvlink_bandwidth_gbps_per_lane"] * 1e9
    overhead = x["inference_step_overhead_us"] * 1e-6
    seq_overhead = x["inference_sequence_overhead_us"] * 1e-6
    ar_latency = x["inference_allreduce_latency_us"] * 1e-6

    # --- the model per package -------------------------------------------------------
    layers = m["layers"]
    hidden = np.asarray(m["hidden_size"], f64)
    vocab = np.asarray(m["vocab_size"], f64)
    kv_heads_pkg = np.maximum(m["kv_heads"] / ways, 1.0) * chip_ways
    kv_tok = 2 * kv_heads_pkg * m["head_dim"] * layers * kv_b  # bytes/token/package
    weights_pkg = weight_bytes_stored(m, w_bytes, emb_bytes) / tp
    act_tok = activation_elements_per_token(m, ways) * layers * a_bytes * chip_ways
    lm_act = (hidden * chip_ways + vocab / tp) * a_bytes  # per output token
    lin_flops_tok = linear_flops_per_token(m) / tp
    head_flops_tok = lm_head_flops_per_token(m) / tp
    att_flops_unit = attention_flops_per_token(m, 1.0) / tp

    # --- capacity and batch ----------------------------------------------------------
    capacity = (
        x["hbm_stacks"]
        * x["hbm_capacity_gb_per_stack"]
        * 1e9
        * x["inference_hbm_usable_fraction"]
    )
    free = capacity - weights_pkg
    per_seq = (inp + out) * kv_tok
    max_batch = np.floor(np.maximum(free, 0.0) / per_seq)
    asked = np.asarray(s["batch"], f64)
    auto = np.isnan(asked)
    batch = np.where(auto, np.minimum(max_batch, x["inference_max_batch"]), asked)
    fits = (max_batch >= 1) & (batch <= max_batch)
    b = np.where(fits, np.maximum(batch, 1.0), np.nan)

    def link_time(tokens, passes, n_out):
        """All-reduce time of a phase: 2 per layer of tokens x hidden, and the
        logits gathered for n_out tokens; intra-package over UCIe, then across."""
        msg = 2 * layers * tokens * hidden * a_bytes
        logits = n_out * vocab * a_bytes
        c = chip_ways
        intra = 2 * (c - 1) / c * msg + (c - 1) / c * logits / tp
        inter = 2 * (tp - 1) / tp * msg + (tp - 1) / tp * logits
        with np.errstate(divide="ignore", invalid="ignore"):
            t_intra = np.where(intra > 0, intra / (d2d_bw * e_l), 0.0)
            t_inter = np.where(inter > 0, inter / (pkg_bw * e_l), 0.0)
        count = passes * (2 * layers + 1)
        t_lat = np.where(tp > 1, count * ar_latency, 0.0)
        return t_intra + t_inter + t_lat, intra * n_chip, inter

    def phase(tokens, passes, flops_lin, flops_att, w_read, kv_rw, act, n_out):
        t_lin_c = flops_lin / (peak_lin * e_c * scale)
        t_lin_m = (w_read + act) / (bw * e_m * scale)
        t_att_c = flops_att / (peak_att * e_c * scale)
        t_att_m = kv_rw / (bw * e_m * scale)
        t_lin = np.maximum(t_lin_c, t_lin_m)
        t_att = np.maximum(t_att_c, t_att_m)
        t_link, d2d_bytes, pkg_bytes = link_time(tokens, passes, n_out)
        t = t_lin + t_att + t_link + passes * overhead + n_out * seq_overhead
        compute = np.where(t_lin_c >= t_lin_m, t_lin, 0) + np.where(
            t_att_c >= t_att_m, t_att, 0
        )
        memory = (t_lin + t_att) - compute
        split = np.stack([compute, memory, t_link])
        bound = BOUNDS[np.argmax(split, axis=0)]
        flops = flops_lin + flops_att
        hbm = w_read + act + kv_rw
        with np.errstate(divide="ignore", invalid="ignore"):
            u_c = np.clip(flops / (t * peak_lin), 0, 1)
            u_m = np.clip(hbm / (t * bw), 0, 1)
        return {
            "time": t,
            "bound": bound,
            "flops": flops,
            "hbm_bytes": hbm,
            "d2d_bytes": d2d_bytes,
            "link_bytes": pkg_bytes,
            "u_c": u_c,
            "u_m": u_m,
            "compute_s": compute,
            "memory_s": memory,
            "link_s": t_link,
        }

    # --- prefill: b requests of inp tokens, in passes of at most chunk tokens -------
    pre_tokens = b * inp
    passes = np.maximum(np.ceil(pre_tokens / x["inference_prefill_chunk_tokens"]), 1.0)
    per_pass = pre_tokens / passes
    pre = phase(
        pre_tokens,
        passes,
        pre_tokens * lin_flops_tok + b * head_flops_tok,
        b * att_flops_unit * inp * (inp + 1) / 2,
        passes
        * weight_bytes_read(m, experts_touched(m, per_pass), w_bytes, emb_bytes)
        / tp,
        2 * pre_tokens * kv_tok,
        pre_tokens * act_tok + b * lm_act,
        b,
    )
    # --- decode: one step of b sequences at the mean context ------------------------
    context = inp + out / 2
    dec = phase(
        b,
        1.0,
        b * (lin_flops_tok + head_flops_tok),
        b * att_flops_unit * context,
        weight_bytes_read(m, experts_touched(m, b), w_bytes, emb_bytes) / tp,
        b * (context + 1) * kv_tok,
        b * (act_tok + lm_act),
        b,
    )
    ttft = pre["time"]
    tpot = dec["time"]
    cycle = ttft + (out - 1) * tpot
    with np.errstate(invalid="ignore", divide="ignore"):
        group_tps = np.where(fits, b * out / cycle, 0.0)

    # --- power at each phase's utilisation (the engine's power model) --------------
    def phase_power(ph):
        uc = np.nan_to_num(ph["u_c"])
        um = np.nan_to_num(ph["u_m"])
        at_c = evaluate_arrays(x, uc)
        at_m = evaluate_arrays(x, um)
        with np.errstate(invalid="ignore", divide="ignore"):
            d2d_rate = np.nan_to_num(ph["d2d_bytes"] / ph["time"]) * 1e-9  # GB/s
        return (
            at_c["power_sm_w"]
            + at_c["power_l2_w"]
            + at_m["power_hbm_w"]
            + at_m["power_d2d_w"]
            + pw.d2d_power_w(d2d_rate, x["d2d_energy_pj_per_bit"])
            + at_c["power_static_w"]
            + at_c["power_interconnect_w"]
            + at_c["power_io_w"]
        )

    if with_power:
        p_pre = phase_power(pre)
        p_dec = phase_power(dec)
    else:
        p_pre = p_dec = np.full(n, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg_power = (p_pre * ttft + p_dec * (out - 1) * tpot) / cycle
        per_w = np.where(fits & (group_tps > 0), group_tps / (tp * avg_power), 0.0)
    nan = np.full(n, np.nan)
    keep = lambda a: np.where(fits, a, nan)  # noqa: E731
    return {
        "fits": fits,
        "max_batch": max_batch,
        "batch": np.where(fits, b, np.where(auto, np.maximum(max_batch, 0), batch)),
        "output_tokens_per_s": group_tps,
        "output_tokens_per_s_per_package": group_tps / tp,
        "output_tokens_per_s_per_user": keep(1.0 / tpot),
        "ttft_s": keep(ttft),
        "tpot_s": keep(tpot),
        "request_latency_s": keep(cycle),
        "prefill_bound": np.where(fits, pre["bound"], "n/a"),
        "decode_bound": np.where(fits, dec["bound"], "n/a"),
        "tokens_per_s_per_w": per_w,
        "power_prefill_w": keep(p_pre),
        "power_decode_w": keep(p_dec),
        "power_average_w": keep(avg_power),
        "weights_gb_per_package": weights_pkg * 1e-9,
        "kv_bytes_per_token_per_package": kv_tok,
        "kv_cache_gb_per_package": keep(b * (inp + out) * kv_tok * 1e-9),
        "hbm_usable_gb_per_package": capacity * 1e-9,
        "prefill_flops_per_package": keep(pre["flops"]),
        "prefill_hbm_bytes_per_package": keep(pre["hbm_bytes"]),
        "prefill_link_bytes_per_package": keep(pre["link_bytes"]),
        "prefill_d2d_bytes_per_package": keep(pre["d2d_bytes"]),
        "prefill_compute_utilization": keep(pre["u_c"]),
        "prefill_memory_utilization": keep(pre["u_m"]),
        "decode_flops_per_package": keep(dec["flops"]),
        "decode_hbm_bytes_per_package": keep(dec["hbm_bytes"]),
        "decode_link_bytes_per_package": keep(dec["link_bytes"]),
        "decode_d2d_bytes_per_package": keep(dec["d2d_bytes"]),
        "decode_compute_utilization": keep(dec["u_c"]),
        "decode_memory_utilization": keep(dec["u_m"]),
        "decode_compute_s": keep(dec["compute_s"]),
        "decode_memory_s": keep(dec["memory_s"]),
        "decode_link_s": keep(dec["link_s"]),
    }
