"""How close a trained flow's samples are to held-out embeddings (pure torch).

Three numbers a researcher reads first: nearest-neighbour distances (do samples land where
data lives, and are they more than copies of the training rows), the gap between the means
and the relative gap between the covariances (does the cloud have the right shape).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class SampleReport:
    """Samples against reference rows (all distances Euclidean, in data space).

    Attributes:
        n_samples: number of samples compared.
        nn_sample_to_ref: mean distance from each sample to its nearest reference row.
        nn_ref_to_ref: the same statistic of the reference rows among themselves (the scale
            to compare ``nn_sample_to_ref`` with).
        nn_sample_to_train: mean distance from each sample to its nearest *training* row
            (near zero means the flow memorized); ``None`` without training rows.
        mean_gap: ``||mean(samples) - mean(ref)||``.
        cov_gap: ``||cov(samples) - cov(ref)||_F / ||cov(ref)||_F``.
        mean_cosine_to_ref: mean cosine of each sample to its nearest reference row.
    """

    n_samples: int
    nn_sample_to_ref: float
    nn_ref_to_ref: float
    nn_sample_to_train: float | None
    mean_gap: float
    cov_gap: float
    mean_cosine_to_ref: float

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


def nearest_distances(a: Tensor, b: Tensor, exclude_self: bool = False) -> Tensor:
    """Distance from each row of ``a`` (``n x d``) to its nearest row of ``b`` (``m x d``)."""
    d = torch.cdist(a.double(), b.double(), compute_mode="donot_use_mm_for_euclid_dist")
    if exclude_self:
        d.fill_diagonal_(float("inf"))
    return d.min(dim=1).values


def compare(samples: Tensor, reference: Tensor, train: Tensor | None = None) -> SampleReport:
    """Compare ``samples`` (``n x d``) with held-out ``reference`` rows (``m x d``, m >= 2)."""
    if reference.shape[0] < 2 or samples.shape[0] < 2:
        raise ValueError("`compare` needs at least 2 samples and 2 reference rows.")
    s, r = samples.double(), reference.double()
    cov_r = torch.cov(r.T).reshape(r.shape[1], r.shape[1])
    cov_s = torch.cov(s.T).reshape(s.shape[1], s.shape[1])
    unit_s, unit_r = torch.nn.functional.normalize(s, dim=1), torch.nn.functional.normalize(r, dim=1)
    nn_train = None if train is None else float(nearest_distances(s, train).mean())
    return SampleReport(
        n_samples=int(s.shape[0]),
        nn_sample_to_ref=float(nearest_distances(s, r).mean()),
        nn_ref_to_ref=float(nearest_distances(r, r, exclude_self=True).mean()),
        nn_sample_to_train=nn_train,
        mean_gap=float((s.mean(0) - r.mean(0)).norm()),
        cov_gap=float((cov_s - cov_r).norm() / cov_r.norm().clamp_min(1e-12)),
        mean_cosine_to_ref=float((unit_s @ unit_r.T).max(dim=1).values.mean()),
    )
