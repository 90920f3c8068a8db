"""What each ``python -m ecoflow`` command does (thin: the work is in the pure modules)."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import torch

from ecoflow.config import EcoflowConfig, promptopt_view
from ecoflow.corpus import Corpus, build_corpus
from ecoflow.model.flow import FlowMatchingModel
from ecoflow.sources import CorpusPlan, gather
from ecoflow.training import split
from ecoflow.validate import compare
from serving.ledger import BudgetLedger
from serving.protocols import Encoder
from serving.runs import RunDir

log = logging.getLogger(__name__)


def serve_apps(config: EcoflowConfig, llm: bool) -> str:
    """Deploy (or reuse) the ``embed`` app, and the ``llm`` app when ``llm``; the base URL.

    ``embed`` and ``train`` leave the ``llm`` app out: on a small machine its CPUs are what
    the training workers need.
    """
    from serving.deploy import ensure_running

    return ensure_running(replace(config.serving, enable_llm=config.serving.enable_llm and llm))


def make_encoder(config: EcoflowConfig, llm: bool = False) -> tuple[Encoder, str]:
    """The encoder the config names, and its name for the corpus (``llm``: also deploy the
    ``llm`` app, for induction)."""
    if config.embed.encoder == "fake":
        from serving.fakes import FakeHashEncoder

        return FakeHashEncoder(dim=32), "fake-hash-32"
    from serving.client import EmbedClient

    client = EmbedClient(config.scorer, base_url=f"{serve_apps(config, llm=llm)}/embed/v1")
    return client, str(client.info["id"])


def run_embed(config: EcoflowConfig) -> dict[str, Any]:
    """Build and save ``corpus.pt`` in the run folder (sources: :mod:`ecoflow.sources`).

    With ``induced`` texts, the ``llm`` app is deployed too and every induction request is
    one ``induce`` event in ``events.jsonl`` (prompt and raw replies in full); the number of
    calls is in the corpus metadata and the summary (not charged to ``budget.max_calls``).
    """
    from promptopt import build

    run = RunDir("ecoflow", config.name)
    run.save_config(config)
    plan = CorpusPlan.from_config(config.embed, config.task)
    task, demos, llm, ledger = None, [], None, BudgetLedger()
    if plan.needs_task:  # only then: a gsm8k corpus builds without GSM8K's files
        view = promptopt_view(config)
        task, demos = build.task(view), build.samples(view)[0]
    if plan.needs_llm:
        llm = build.client(config.scorer, f"{serve_apps(config, llm=True)}/v1", ledger)
    pairs, meta, induction = gather(plan, config.embed, llm=llm, task=task, demos=demos)
    meta["induced"]["uncached_calls"] = ledger.usage.calls
    for request in induction.requests:
        run.append({"event": "induce", **request})
    encoder, name = make_encoder(config, llm=plan.needs_llm)
    corpus = build_corpus(pairs, encoder, encoder_name=name, batch_size=config.embed.batch_size,
                          progress=True, meta=meta)
    path = corpus.save(run.path / "corpus.pt")
    sources: dict[str, int] = {}
    for s in corpus.sources:
        sources[s] = sources.get(s, 0) + 1
    summary = {"corpus": str(path), "texts": len(corpus), "dim": corpus.dim, "encoder": name,
               "sources": sources, "meta": meta}
    run.append({"event": "embed", **summary})
    return summary


def load_corpus(run: RunDir) -> Corpus:
    path = run.path / "corpus.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m ecoflow embed` with this "
                                "config first.")
    return Corpus.load(path)


def load_model(run: RunDir) -> FlowMatchingModel:
    path = run.path / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: run `python -m ecoflow train` with this "
                                "config first.")
    return FlowMatchingModel.from_checkpoint(torch.load(path, map_location="cpu", weights_only=False))


def run_train(config: EcoflowConfig) -> dict[str, Any]:
    """Train the flow on the run's corpus with Ray Train (resumes a killed run)."""
    from ecoflow.ray_train import fit

    run = RunDir("ecoflow", config.name)
    run.save_config(config)
    return fit(load_corpus(run).vectors, config.train, run)


def run_validate(config: EcoflowConfig) -> dict[str, Any]:
    """Sample the best model and compare with the held-out split; ``validation.json``."""
    run = RunDir("ecoflow", config.name)
    corpus, model = load_corpus(run), load_model(run)
    train_x, val_x = split(corpus.vectors, config.train.val_fraction, config.train.seed)
    v = config.validate
    samples = model.sample(v.num_samples, steps=v.steps, method=v.method,
                           generator=torch.Generator().manual_seed(v.seed))
    report = {"samples": compare(samples, val_x, train=train_x).to_dict(),
              "reference_train_vs_val": compare(train_x, val_x).to_dict()}
    run.write_json("validation.json", report)
    return report
