"""Smoothing a loss curve, and log 2 (the BCE loss of a coin-flip D). Used by plots, dashboards and verdicts."""

from __future__ import annotations

import math

import numpy as np

LOG2 = math.log(2.0)  # the averaged BCE loss of a discriminator that guesses (D = 0.5 everywhere)


def smooth(values, width: int = 50) -> np.ndarray:
    """Moving average with a window of ``width`` steps (shorter at the start) (lesson 3)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    c = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, x.size + 1)
    lo = np.maximum(0, idx - width)
    return (c[idx] - c[lo]) / (idx - lo)


def full_width_smooth(values, width: int) -> np.ndarray:
    """Moving averages over exactly ``width`` steps: no value rests on a single raw batch."""
    x = np.asarray(values, dtype=np.float64)
    width = max(1, min(len(x), width))
    return smooth(x, width)[width - 1:]
