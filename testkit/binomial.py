"""How far a count of random outcomes may stray from its expectation before a test calls it wrong."""

from __future__ import annotations

import math

SIGMAS = 4.5  # both sides together: a correct router falls outside about 7 times in a million runs


def binomial_band(trials: int, probability: float, sigmas: float = SIGMAS) -> tuple[float, float]:
    """The counts of successes that ``trials`` independent trials of ``probability`` stay within but for
    a chance of about 7 in a million (the normal approximation, sound while trials * p * (1 - p) >= 9)."""
    mean = trials * probability
    spread = sigmas * math.sqrt(trials * probability * (1 - probability))
    return mean - spread, mean + spread
