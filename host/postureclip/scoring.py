"""Scoring detections against ground truth: interval matching, F1 (benchmarks and tests)."""
from __future__ import annotations

from collections.abc import Sequence


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0


def match_intervals(truth: Sequence[tuple[float, float]], found: Sequence[tuple[float, float]],
                    min_iou: float = 0.3) -> list[tuple[int, int]]:
    """Greedy one-to-one matching by best IoU; returns (truth index, found index) pairs."""
    cands = sorted(((iou(t, f), i, j) for i, t in enumerate(truth) for j, f in enumerate(found)
                    if iou(t, f) >= min_iou), reverse=True)
    used_t: set[int] = set()
    used_f: set[int] = set()
    pairs = []
    for _, i, j in cands:
        if i not in used_t and j not in used_f:
            used_t.add(i)
            used_f.add(j)
            pairs.append((i, j))
    return sorted(pairs)


def f1(n_truth: int, n_found: int, n_matched: int) -> float:
    if n_truth == 0 and n_found == 0:
        return 1.0
    return 2.0 * n_matched / (n_truth + n_found)
