"""AWS Lambda's on-demand prices, the one table the tuning's cost column is computed from.

Source: https://aws.amazon.com/lambda/pricing/ (US East (N. Virginia); the first tier of duration,
up to 6 billion GB-seconds a month, on-demand, no free tier), as published on 2026-12-07; the same
figures as AWS Lambda Power Tuning's template (its ``baseCosts``: 2.1e-9 and 1.7e-9 USD per ms at
128 MB, rounded). Other Regions and the lower tiers cost otherwise: the ratios between memory sizes
stay the same.
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_SOURCE = "https://aws.amazon.com/lambda/pricing/ (us-east-1, first duration tier), 2026-12-07"
# Lambda bills duration in 1 ms steps, per GB-second of configured memory (1 GB = 1,024 MB).
MB_PER_GB = 1024


@dataclass(frozen=True)
class Prices:
    per_gb_second_usd: float
    per_million_requests_usd: float


PRICES = {
    "x86_64": Prices(per_gb_second_usd=0.0000166667, per_million_requests_usd=0.20),
    "arm64": Prices(per_gb_second_usd=0.0000133334, per_million_requests_usd=0.20),
}


def cost_per_million(memory_mb: int, billed_ms: float, architecture: str = "x86_64") -> float:
    """USD for a million invocations of ``billed_ms`` each at ``memory_mb``: requests plus duration."""
    prices = PRICES[architecture]
    gb_seconds = memory_mb / MB_PER_GB * billed_ms / 1000
    return prices.per_million_requests_usd + 1_000_000 * gb_seconds * prices.per_gb_second_usd
