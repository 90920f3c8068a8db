"""Gaussian-process surrogate of the prompt score, its confidence bound and that bound's gradient.

Sign convention (one place, used everywhere in ecoflow): **we maximize the score** (accuracy),
and guidance *ascends* the acquisition

    a(z) = sign * mu(z) + sqrt(beta) * sigma(z),    sign = +1 when maximize (the default)

which is the upper confidence bound ``mu + kappa sigma`` (``kappa = sqrt(beta)``). Descending the
lower confidence bound of the negated objective, ``LCB[-f] = -mu - kappa sigma``, is the same
thing. With ``maximize=False`` (a score to minimize, e.g. a loss) ``a = -mu + kappa sigma``, i.e.
guidance descends ``LCB[f] = mu - kappa sigma``. This matches BoTorch's
``UpperConfidenceBound(model, beta, maximize=...)`` exactly (tested).

Inputs are standardized embeddings (ecoflow fits in the flow's normalized space, so gradients
come out in the space the ODE runs in). BoTorch's default lengthscale prior (scaled with
``sqrt(d)``, Hvarfner et al. 2024) assumes unit-cube inputs, and standardized coordinates span
about ``[-3, 3]``: started from that prior's mode, the lengthscales would be about six times too
short, every pair of points nearly uncorrelated, the marginal likelihood flat, and the fit stuck
at its starting point (seen in testing). So the model maps ``[-input_bound, input_bound]`` to
``[0, 1]`` with BoTorch's ``Normalize`` on *fixed* bounds (bounds learned from a handful of
points would move with every refit); gradients are still taken with respect to the
standardized inputs. The GP runs in float64 (BoTorch's recommendation); inputs of any dtype
and device are accepted and gradients come back in the caller's dtype.
"""

from __future__ import annotations

import warnings

import torch
from botorch.exceptions import InputDataWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from torch import Tensor


class GPSurrogate:
    """BoTorch ``SingleTaskGP`` (outcome standardized) with a confidence-bound acquisition.

    Args:
        beta: the bound is ``mu +- sqrt(beta) * sigma``.
        maximize: True when larger scores are better (see the module's sign convention).
        seed: seeds the (rare) random restarts of ``fit_gpytorch_mll``, inside a forked RNG,
            so refitting the same data gives the same model.
        input_bound: inputs in ``[-input_bound, input_bound]`` map onto the unit cube the
            kernel's prior expects (``None``: use the inputs as they are).

    Example:
        >>> gp = GPSurrogate(beta=1.0).fit(z, scores)  # z: n x d, scores: n
        >>> value, grad = gp.gradient(z_new)  # b, b x d
    """

    def __init__(
        self,
        beta: float = 1.0,
        maximize: bool = True,
        seed: int = 0,
        input_bound: float | None = 3.0,
    ):
        if beta < 0:
            raise ValueError(f"`beta` must be >= 0, got {beta}.")
        if input_bound is not None and input_bound <= 0:
            raise ValueError(f"`input_bound` must be positive or None, got {input_bound}.")
        self.beta, self.maximize, self.seed = beta, maximize, seed
        self.input_bound = input_bound
        self._model: SingleTaskGP | None = None
        self._train: tuple[Tensor, Tensor] | None = None

    @property
    def model(self) -> SingleTaskGP:
        """The fitted BoTorch model (raises if :meth:`fit` was not called)."""
        if self._model is None:
            raise RuntimeError("The surrogate is not fitted: call `fit(x, y)` first.")
        return self._model

    def fit(self, x: Tensor, y: Tensor, optimize: bool = True) -> GPSurrogate:
        """Fit GP hyperparameters by maximizing the marginal likelihood.

        Args:
            x: ``n x d`` inputs (ecoflow: normalized embeddings of scored texts).
            y: ``n`` scores.
            optimize: False builds the model without fitting (a checkpoint then loads them).

        Returns:
            ``self``, fitted.
        """
        if x.dim() != 2 or y.shape != (x.shape[0],) or x.shape[0] < 1:
            raise ValueError(
                f"`x` must be n x d and `y` of length n >= 1; got {tuple(x.shape)} and "
                f"{tuple(y.shape)}."
            )
        train_x = x.detach().to(torch.float64)
        train_y = y.detach().to(dtype=torch.float64, device=x.device)[:, None]
        d = train_x.shape[-1]
        transform = None
        if self.input_bound is not None:
            bounds = torch.tensor([[-1.0], [1.0]], dtype=torch.float64) * self.input_bound
            transform = Normalize(d=d, bounds=bounds.expand(2, d).to(train_x.device))
        with warnings.catch_warnings():
            # a few coordinates beyond +-input_bound fall outside the cube: harmless, expected
            warnings.filterwarnings("ignore", message=".*unit cube.*", category=InputDataWarning)
            # equal scores (common early in a run) have std 0: Standardize then divides by 1
            warnings.filterwarnings("ignore", message=".*not standardized.*", category=InputDataWarning)
            model = SingleTaskGP(
                train_x, train_y, outcome_transform=Standardize(m=1), input_transform=transform
            )
        if optimize:
            mll = ExactMarginalLogLikelihood(model.likelihood, model)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                fit_gpytorch_mll(mll)
        model.eval()
        self._model, self._train = model, (x.detach(), y.detach())
        return self

    def to_checkpoint(self) -> dict:
        """Settings, training data and fitted hyperparameters (for :meth:`from_checkpoint`)."""
        model = self.model
        return {"beta": self.beta, "maximize": self.maximize, "seed": self.seed,
                "input_bound": self.input_bound, "train_x": self._train[0].cpu(),
                "train_y": self._train[1].cpu(), "state_dict": model.state_dict()}

    @classmethod
    def from_checkpoint(cls, checkpoint: dict) -> GPSurrogate:
        """The fitted surrogate of :meth:`to_checkpoint`, without refitting."""
        gp = cls(checkpoint["beta"], checkpoint["maximize"], checkpoint["seed"],
                 checkpoint["input_bound"])
        gp.fit(checkpoint["train_x"], checkpoint["train_y"], optimize=False)
        gp.model.load_state_dict(checkpoint["state_dict"])
        return gp

    def mean_std(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and standard deviation of the score, each point on its own.

        Args:
            x: ``b x d`` inputs.

        Returns:
            ``b`` means and ``b`` standard deviations (score units, float64), differentiable
            with respect to ``x``.
        """
        model = self.model
        xb = x.to(dtype=torch.float64, device=model.train_inputs[0].device)[:, None, :]
        post = model.posterior(xb)  # b x 1 x 1: independent per point, like BoTorch's t-batch
        mean = post.mean[..., 0, 0]
        std = post.variance[..., 0, 0].clamp_min(1e-12).sqrt()
        return mean, std

    def confidence_bound(self, x: Tensor, standardized: bool = False) -> Tensor:
        """The acquisition ``sign * mu + sqrt(beta) * sigma`` (larger is better).

        Args:
            x: ``b x d`` inputs.
            standardized: express it in units of the training scores' std, centred on their
                mean: ``(a - sign * y_mean) / y_std``. A positive affine map of ``a`` (same
                argmax, same gradient direction) that makes a guidance scale independent of
                the score's units. Guidance uses this.

        Returns:
            ``b`` values (float64), differentiable with respect to ``x``.
        """
        mean, std = self.mean_std(x)
        sign = 1.0 if self.maximize else -1.0
        value = sign * mean + self.beta**0.5 * std
        if standardized:
            tf = self.model.outcome_transform
            value = (value - sign * tf.means[..., 0, 0]) / tf.stdvs[..., 0, 0]
        return value

    def gradient(self, x: Tensor, standardized: bool = False) -> tuple[Tensor, Tensor]:
        """The acquisition and its gradient with respect to the inputs, via autograd.

        Args:
            x: ``b x d`` inputs (not modified).
            standardized: as in :meth:`confidence_bound`.

        Returns:
            ``b`` values (float64) and the ``b x d`` gradient in ``x``'s dtype. Points are
            independent, so row ``i`` of the gradient is ``d a(x_i) / d x_i``.
        """
        with torch.enable_grad():
            xg = x.detach().requires_grad_(True)
            value = self.confidence_bound(xg, standardized=standardized)
            (grad,) = torch.autograd.grad(value.sum(), xg)
        return value.detach(), grad
