"""ecoflow performance: DDP speedup, sampler throughput, GP fit time, guidance ablation.

    python benchmarks/ecoflow_bench.py                       # the full measurement
    python benchmarks/ecoflow_bench.py --tiny                # a smoke run in about a minute

The last line printed is JSON with ``ddp_speedup_2_workers`` (training samples/s summed over
workers, 2 workers vs 1, same data and model), ``sampler_samples_per_s`` (Heun, batch 1024),
``gp_fit_s`` (per training-set size) and ``guidance_ablation`` (lambda = 0 vs the default at
the same sampling budget: mean GP value of the samples and their distance to the data).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from functools import partial

import torch

from ecoflow.guidance import GuidedFlowSampler
from ecoflow.model.flow import FlowMatchingModel
from ecoflow.model.gaussian import GaussianFlow
from ecoflow.surrogate import GPSurrogate
from ecoflow.training import TrainConfig
from ecoflow.validate import nearest_distances


def ddp_speedup(n: int, dim: int, width: int, depth: int, epochs: int) -> dict[str, float]:
    """Global training samples/s (last epoch) with 1 and 2 CPU workers."""
    from ecoflow.train import fit
    from serving.runs import RunDir

    data = torch.randn(n, dim, generator=torch.Generator().manual_seed(0))
    rates = {}
    with tempfile.TemporaryDirectory() as root:
        for workers in (1, 2):
            config = TrainConfig(width=width, depth=depth, epochs=epochs, batch_size=128,
                                 num_workers=workers, max_failures=0, num_to_keep=1)
            summary = fit(data, config, RunDir("ecoflow", f"bench-{workers}", root=root))
            rates[workers] = summary["last"]["samples_per_s"] * workers
    return {"samples_per_s_1": rates[1], "samples_per_s_2": rates[2],
            "ddp_speedup_2_workers": rates[2] / rates[1]}


def sampler_rate(dim: int, batch: int, steps: int, repeats: int = 2) -> float:
    """Samples/s of an (untrained, same-cost) 256 x 4 flow with 50-step Heun."""
    model = FlowMatchingModel(dim).eval()
    model.sample(8, steps=2)  # warm-up
    start = time.perf_counter()
    for i in range(repeats):
        model.sample(batch, steps=steps, method="heun", generator=torch.Generator().manual_seed(i))
    return batch * repeats / (time.perf_counter() - start)


def toy_scores(z: torch.Tensor) -> torch.Tensor:
    """A smooth score peaked away from the data mean (normalized space)."""
    target = torch.full((z.shape[1],), 0.5, dtype=z.dtype)
    return torch.exp(-((z - target) ** 2).sum(-1) / (2 * z.shape[1]))


def gp_fit_times(sizes: list[int], dim: int) -> dict[str, float]:
    g = torch.Generator().manual_seed(1)
    out = {}
    for n in sizes:
        x = torch.randn(n, dim, generator=g, dtype=torch.float64)
        start = time.perf_counter()
        GPSurrogate().fit(x, toy_scores(x))
        out[str(n)] = time.perf_counter() - start
    return out


def guidance_ablation(dim: int, n_train: int, n_samples: int, steps: int) -> dict[str, dict]:
    """The same noise sampled with lambda = 0 and the default lambda = 1 (CFG-Zero* 4%)."""
    g = torch.Generator().manual_seed(2)
    data = torch.randn(500, dim, generator=g, dtype=torch.float64) * 0.5 + 1.0
    flow = GaussianFlow.from_data(data)
    x = data[:n_train]
    gp = GPSurrogate().fit(flow.normalize(x), toy_scores(flow.normalize(x)))
    acquisition = partial(gp.confidence_bound, standardized=True)
    out = {}
    for scale in (0.0, 1.0):
        sampler = GuidedFlowSampler(flow, scale=scale, steps=steps)
        samples = sampler.sample_embeddings(n_samples, acquisition,
                                            torch.Generator().manual_seed(3))
        mu, _ = gp.mean_std(flow.normalize(samples))
        out[f"lambda_{scale:g}"] = {
            "mean_gp_value": float(mu.detach().mean()),
            "mean_true_score": float(toy_scores(flow.normalize(samples)).mean()),
            "mean_nn_distance_to_data": float(nearest_distances(samples, data).mean())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="smoke settings (about a minute)")
    parser.add_argument("--skip-ddp", action="store_true", help="no Ray Train measurement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tiny = args.tiny
    result: dict = {"tiny": tiny}
    if not args.skip_ddp:
        result.update(ddp_speedup(n=1024 if tiny else 16384, dim=384, width=64 if tiny else 256,
                                  depth=1 if tiny else 4, epochs=2 if tiny else 3))
    result["sampler_samples_per_s"] = sampler_rate(384, batch=64 if tiny else 1024,
                                                   steps=10 if tiny else 50)
    result["sampler_settings"] = {"batch": 64 if tiny else 1024, "steps": 10 if tiny else 50}
    result["gp_fit_s"] = gp_fit_times([20, 50] if tiny else [100, 300, 1000], dim=384)
    result["guidance_ablation"] = guidance_ablation(dim=16 if tiny else 384, n_train=20 if tiny else 100,
                                                    n_samples=32 if tiny else 256,
                                                    steps=10 if tiny else 50)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
