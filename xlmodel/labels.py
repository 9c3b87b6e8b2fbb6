"""Short, unique labels for variant names: on charts and in console tables."""

from __future__ import annotations


def short_labels(names: list[str], limit: int) -> dict[str, str]:
    """Unique labels: a name, or a name cut to ``limit`` characters with "…".

    Parameters
    ----------
    names : list of str
        Variant names (unique).
    limit : int
        Longest label, in characters.

    Returns
    -------
    dict of str to str
        Name -> label; labels are unique (a clash gets a "#n" suffix, n = position).
    """

    def cut(n: str) -> str:
        if len(n) <= limit:
            return n
        tail = (limit - 1) * 2 // 5  # keep the end too: names often differ there
        return n[: limit - 1 - tail].rstrip() + "…" + n[-tail:].lstrip()

    labels = {n: cut(n) for n in names}
    seen: dict[str, int] = {}
    for label in labels.values():
        seen[label] = seen.get(label, 0) + 1
    for i, n in enumerate(names):
        if seen[labels[n]] > 1 and labels[n] != n:
            tag = f"… #{i + 1}"
            labels[n] = n[: limit - len(tag)].rstrip() + tag
    return labels
