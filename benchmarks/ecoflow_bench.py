"""ecoflow performance: DDP speedup, sampler throughput, GP fit time, guidance ablation.

    python benchmarks/ecoflow_bench.py                       # the full measurement
    python benchmarks/ecoflow_bench.py --tiny                # a smoke run in about a minute
    python benchmarks/ecoflow_bench.py --run demo            # ablation on the demo's trained flow

The last line printed is JSON with ``ddp_speedup_2_workers`` (global training samples/s =
rank 0's rate × workers, as every rank steps in lockstep on an equal shard; 2 workers vs 1,
same data and model), ``sampler_samples_per_s`` (Heun, batch 1024),
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

from ecoflow.config import OptimizeConfig
from ecoflow.guidance import GuidedFlowSampler
from ecoflow.model.flow import FlowMatchingModel
from ecoflow.model.gaussian import GaussianFlow
from ecoflow.surrogate import GPSurrogate
from ecoflow.training import TrainConfig
from ecoflow.validate import nearest_distances


def ddp_speedup(n: int, dim: int, width: int, depth: int, epochs: int) -> dict[str, float]:
    """Global training samples/s (last epoch, rank 0's rate × workers) with 1 and 2 workers."""
    from ecoflow.ray_train import fit
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


def guidance_ablation(flow, data: torch.Tensor, n_train: int, n_samples: int, steps: int,
                      scales: list[float]) -> dict[str, dict]:
    """The same noise sampled with each lambda in ``scales`` (CFG-Zero* 4%): the GP is fitted
    on ``n_train`` data rows scored by :func:`toy_scores` (a known smooth function)."""
    x = data[torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(2))[:n_train]]
    z = flow.normalize(x.to(flow.mean.dtype)).detach()
    gp = GPSurrogate().fit(z, toy_scores(z.double()))
    acquisition = partial(gp.confidence_bound, standardized=True)
    out = {}
    for scale in scales:
        sampler = GuidedFlowSampler(flow, scale=scale, steps=steps)
        samples = sampler.sample_embeddings(n_samples, acquisition, torch.Generator().manual_seed(3))
        zs = flow.normalize(samples).detach()
        mu, _ = gp.mean_std(zs)
        out[f"lambda_{scale:g}"] = {
            "mean_gp_value": float(mu.detach().mean()),
            "mean_true_score": float(toy_scores(zs.double()).mean()),
            "mean_nn_distance_to_data": float(nearest_distances(samples.detach(), data).mean())}
    out["reference_nn_distance_data_to_data"] = float(
        nearest_distances(data[:n_samples], data, exclude_self=True).mean())
    return out


def ablation_inputs(run: str | None, dim: int):
    """A trained run's flow and corpus (``--run``), else the exact flow of synthetic data."""
    if run is None:
        data = torch.randn(2000, dim, generator=torch.Generator().manual_seed(2)) * 0.5 + 1.0
        return GaussianFlow.from_data(data), data, "gaussian-flow-synthetic"
    from ecoflow.jobs import load_corpus, load_model
    from serving.runs import RunDir

    folder = RunDir("ecoflow", run)
    return load_model(folder).eval(), load_corpus(folder).vectors, f"trained-flow-{run}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="smoke settings (about a minute)")
    parser.add_argument("--skip-ddp", action="store_true", help="no Ray Train measurement")
    parser.add_argument("--only-ablation", action="store_true",
                        help="just the guidance ablation (no DDP, sampler or GP-fit timing)")
    parser.add_argument("--scales", default="",
                        help="extra lambdas for the ablation beside 0 and the default, e.g. 10,100")
    parser.add_argument("--run", help="guidance ablation on this trained run's flow and corpus "
                        "(results/ecoflow/RUN/; e.g. demo), instead of synthetic data")
    args = parser.parse_args()
    torch.set_num_threads(1)
    tiny = args.tiny
    result: dict = {"tiny": tiny}
    if not (args.skip_ddp or args.only_ablation):
        result.update(ddp_speedup(n=1024 if tiny else 16384, dim=384, width=64 if tiny else 256,
                                  depth=1 if tiny else 4, epochs=2 if tiny else 3))
    if not args.only_ablation:
        result["sampler_samples_per_s"] = sampler_rate(384, batch=64 if tiny else 1024,
                                                       steps=10 if tiny else 50)
        result["sampler_settings"] = {"batch": 64 if tiny else 1024, "steps": 10 if tiny else 50,
                                      "torch_threads": 1}
        result["gp_fit_s"] = gp_fit_times([20, 50] if tiny else [100, 300, 1000], dim=384)
    flow, data, source = ablation_inputs(args.run, dim=16 if tiny else 384)
    scales = [0.0, OptimizeConfig().scale] + [float(x) for x in args.scales.split(",") if x]
    result["guidance_ablation"] = {
        "flow": source, "n_samples": 32 if tiny else 256, "steps": 10 if tiny else 50,
        "default_lambda": OptimizeConfig().scale,
        **guidance_ablation(flow, data, n_train=20 if tiny else 100, n_samples=32 if tiny else 256,
                            steps=10 if tiny else 50, scales=list(dict.fromkeys(scales)))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
