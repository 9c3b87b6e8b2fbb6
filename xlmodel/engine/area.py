"""Coarse lower bound on a chiplet's area from what it holds, to flag implausible dies.

    typical area (mm²) = SMs x A_sm x (F / 4096)^0.7 x node + L2 MB x A_l2 x node
                         + HBM PHYs x A_phy
    minimum area       = MIN_FRACTION x typical area

F is FP16 tensor FLOP per clock per SM; node is 2.0 for N7-class, 1.0 for N5-class
(4N, N5, N4) and 0.75 for N3-class. A_sm = 5.5 mm² comes from H100 (814 mm², 132 SMs
at 4096 FLOP/clk, 50 MB L2, 5 HBM PHYs); A100 (826 mm², 108 SMs at 2048, N7) gives
the N7 factor. A_l2 = 0.6 mm²/MB and A_phy = 12 mm² are public die-shot estimates.
A die smaller than half the typical area would be twice as dense as shipping parts.
"""

from __future__ import annotations

import numpy as np

A_SM_MM2 = 5.5
A_SM_REF_FLOP_PER_CYCLE = 4096.0
A_SM_THROUGHPUT_EXPONENT = 0.7
A_L2_MM2_PER_MB = 0.6
A_PHY_MM2 = 12.0
NODE_AREA_SCALE = {"n7": 2.0, "n5": 1.0, "n3": 0.75}
MIN_FRACTION = 0.5


def typical_chiplet_area_mm2(
    sms_per_chiplet,
    fp16_flop_per_cycle_per_sm,
    l2_cache_mb,
    hbm_phys_per_chiplet,
    node_scale,
):
    """Area a shipping-class design would need for this content, mm²."""
    sm = (
        A_SM_MM2
        * np.power(
            fp16_flop_per_cycle_per_sm / A_SM_REF_FLOP_PER_CYCLE,
            A_SM_THROUGHPUT_EXPONENT,
        )
        * node_scale
    )
    return (
        sms_per_chiplet * sm
        + l2_cache_mb * A_L2_MM2_PER_MB * node_scale
        + hbm_phys_per_chiplet * A_PHY_MM2
    )


def minimum_chiplet_area_mm2(*args):
    """MIN_FRACTION x :func:`typical_chiplet_area_mm2`, mm²."""
    return MIN_FRACTION * typical_chiplet_area_mm2(*args)
