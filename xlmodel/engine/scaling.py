"""Die-to-die traffic and the interconnect-aware scaling efficiency over chiplets.

Memory is interleaved over every chiplet's HBM. A share s of each chiplet's memory
traffic is not kept local; of that, the fraction (1 - 1/n) lands on another chiplet
and crosses the die-to-die links, taking on average h(n) hops for the topology. Each
chiplet has L links of B GB/s per direction. Work runs at the pace of the slower of
compute and D2D links (a roofline on the links):

    demand per chiplet (GB/s)   D = u x s x (1 - 1/n) x HBM bandwidth per chiplet x h(n)
    capacity per chiplet (GB/s) C = L x B
    scaling efficiency          e = min(1, C / D)

With s = 0 (the default) e = 1 and scaling is the seed's ideal linear scaling.
"""

from __future__ import annotations

import numpy as np

from ..schema import BY_NAME, TOPOLOGY_CODES

_MAX_CHIPLETS = int(BY_NAME["num_chiplets"].maximum)


def _hop_tables(max_n: int) -> np.ndarray:
    """Average hop count between distinct chiplets, indexed [topology code, n]."""
    n = np.arange(max_n + 1, dtype=np.float64)
    table = np.zeros((len(TOPOLOGY_CODES), max_n + 1))
    others = np.maximum(n - 1, 1)
    table[TOPOLOGY_CODES["all_to_all"]] = np.where(n > 1, 1.0, 0.0)
    # bidirectional ring: the distances from one node sum to floor(n²/4)
    table[TOPOLOGY_CODES["ring"]] = np.where(n > 1, np.floor(n * n / 4) / others, 0.0)
    # 2-D mesh of r x c, r the largest divisor of n not above sqrt(n); the mean
    # distance along a line of L nodes over all ordered pairs is (L² - 1) / (3L)
    mesh = np.zeros(max_n + 1)
    for k in range(2, max_n + 1):
        r = max(d for d in range(1, int(k**0.5) + 1) if k % d == 0)
        c = k // r
        mean_all = (c * c - 1) / (3 * c) + (r * r - 1) / (3 * r)
        mesh[k] = mean_all * k / (k - 1)
    table[TOPOLOGY_CODES["mesh"]] = mesh
    return table


# Twice the valid maximum: sensitivity studies perturb a count upwards (a tornado
# at up to +100 %), and the table must hold those points too.
HOPS = _hop_tables(2 * _MAX_CHIPLETS + 1)


def average_hops(topology_code, num_chiplets):
    """Mean D2D hops between two distinct chiplets (0 for a single chiplet).

    All-to-all and ring in closed form (the expressions of :data:`HOPS`, so that
    a spreadsheet formula can follow them), the mesh from the table; only the
    topologies present are computed.
    """
    code = np.asarray(topology_code, dtype=np.int64)
    k = np.trunc(num_chiplets)  # the whole count the table is indexed by
    parts: list = [0.0] * len(TOPOLOGY_CODES)
    if (code == TOPOLOGY_CODES["all_to_all"]).any():
        parts[TOPOLOGY_CODES["all_to_all"]] = np.where(k > 1, 1.0, 0.0)
    if (code == TOPOLOGY_CODES["ring"]).any():
        others = np.maximum(k - 1, 1)
        parts[TOPOLOGY_CODES["ring"]] = np.where(
            k > 1, np.floor(k * k / 4) / others, 0.0
        )
    mesh = TOPOLOGY_CODES["mesh"]
    if (code == mesh).any():
        parts[mesh] = HOPS[mesh, np.asarray(num_chiplets).astype(np.int64)]
    return np.choose(code, parts)


def d2d_demand_gbps_per_chiplet(
    num_chiplets, hbm_bw_gbps, remote_share, hops, utilization
):
    """Link traffic each chiplet asks for, GB/s, summed over hops (D above)."""
    remote_fraction = remote_share * (1.0 - 1.0 / num_chiplets)
    return utilization * remote_fraction * hbm_bw_gbps / num_chiplets * hops


def scaling_efficiency(demand_gbps, links_per_chiplet, ucie_bandwidth_gbps):
    """Fraction of ideal linear throughput reached, 0-1: min(1, capacity / demand)."""
    capacity = links_per_chiplet * ucie_bandwidth_gbps
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(demand_gbps > 0, np.minimum(1.0, capacity / demand_gbps), 1.0)
