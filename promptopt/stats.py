"""Re-exports :mod:`serving.stats`, where the accuracy and bootstrap helpers now live.

They moved to ``serving`` so that every package (promptopt, alignment, ecoflow) can share
them without importing each other.
"""

from serving.stats import (
    Z_95,
    Accuracy,
    PairedBootstrap,
    accuracy,
    paired_bootstrap,
    wilson_interval,
)

__all__ = ["Z_95", "Accuracy", "PairedBootstrap", "accuracy", "paired_bootstrap", "wilson_interval"]
