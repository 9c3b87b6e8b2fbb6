"""``xlmodel diff OLD NEW``: what changed between two workbooks, printed.

The same comparison as the Changes sheet of a compute: the inputs that
changed, the headline metrics that moved, the share of each changed input.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the studies (and pandas) only when the command runs
    from ..studies.changes import Changes


_PATH = click.Path(dir_okay=False, path_type=Path)


@click.command()
@click.argument("old", type=_PATH)
@click.argument("new", type=_PATH)
def diff(old: Path, new: Path):
    """Print what changed from workbook OLD to workbook NEW (nothing is written)."""
    from ..pipeline import diff as run_diff

    click.echo(format_changes(run_diff(old, new), old, new))


def _value(v) -> str:
    if v is None:
        return "(blank)"
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.6g}"
    return str(v)


def format_changes(changes: Changes, old, new) -> str:
    """The comparison as text: three sections, one line per row."""
    lines = [f"{old} -> {new}"]
    lines.append(f"\nInputs that changed: {len(changes.inputs)}")
    for row in changes.inputs.itertuples(index=False):
        who = f" ({row.item})" if row.item else ""
        lines.append(
            f"  {row.sheet}!{row.cell} {row.parameter}{who}: "
            f"{_value(row.old)} -> {_value(row.new)}"
        )
    lines.append(f"\nHeadline metrics that moved: {len(changes.metrics)}")
    for row in changes.metrics.itertuples(index=False):
        pct = "" if math.isnan(row.delta_percent) else f", {row.delta_percent:+.2f} %"
        lines.append(
            f"  {row.variant} {row.metric} ({row.unit}): {_value(row.old)} -> "
            f"{_value(row.new)} ({row.delta:+.6g}{pct})"
        )
    if len(changes.shares):
        lines.append("\nShare of each change:")
    for row in changes.shares.itertuples(index=False):
        pct = "" if math.isnan(row.share_percent) else f" ({row.share_percent:.1f} %)"
        lines.append(
            f"  {row.variant} {row.metric}: {row.parameter} {row.share:+.6g}{pct}, "
            f"{row.method}"
        )
    for label, names in (("added", changes.added), ("removed", changes.removed)):
        if names:
            lines.append(f"\nVariants {label}: {', '.join(names)}")
    return "\n".join(lines)
