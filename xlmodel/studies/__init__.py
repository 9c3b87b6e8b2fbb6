"""Studies above the equations: what an architect asks of the model.

Each module here calls the engine (xlmodel.engine, the equations) and never does
I/O: sensitivity sweeps and elasticities, Sobol indices, design-space exploration,
Monte Carlo uncertainty, the standard tables of every compute (roofline, chiplet
scaling, comparison), the cost tables (breakdown per variant, cost against chiplet
count beside the monolithic equivalent), the reference chips and the physical
preset fitted on them,
the reality check, and ``run``, which turns a validated Study into every result
table.
"""
