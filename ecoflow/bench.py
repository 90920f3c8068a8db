"""One EcoFlow run at an equal LLM-call budget, for ``benchmarks/optimizer_gains.py``.

No Ray here: the LLM and the encoder are the already-deployed ``llm`` and ``embed`` Serve apps
reached over HTTP, the flow trains in this process (:func:`ecoflow.training.fit_local`, one
torch thread) and :class:`~ecoflow.bo.FlowBO` runs here. :func:`run_ecoflow` builds the HTTP
clients; :func:`search` is the same run with every collaborator injected (tests pass fakes).

**What is charged** to the caller's ledger (which also charges cache hits, so a rerun costs
what the first run did and no method rides on another's cached answers):

- *induction*: one call per induction request (``embed.induced`` instructions from the train
  split, ``embed.induce_per_call`` replies per call: 32 / 4 = 8 calls, at most 16);
- *decoding*: one text-completion call per guided sample (``optimize.batch_size`` per round,
  ``optimize.num_candidates`` replies each);
- *scoring*: one call per validation example per new instruction (a private, empty
  evaluation table, as every method in the benchmark gets).

Not charged, as for every method: requests to the ``embed`` app (an encoder, not an LLM),
training the flow and fitting the GP (CPU time), and the held-out report.

**Settings**: ``configs/ecoflow/gains.yaml`` (the task, scorer and evaluation come from the
benchmark's promptopt config; every seed is the run's seed). The flow is width 128 × depth 2,
batch 32, lr 1e-3, at most :data:`MAX_STEPS` optimizer steps: about 10 ms a step on one
thread for 384-d MiniLM vectors (measured on the 2-core dev machine under load), so ≈ 15 s
for a corpus of ~80 texts (generic bank + 32 induced) and never more than ~30 s. The corpus
and the trained flow are cached under ``<cache>/ecoflow_bench/<task>-s<seed>-<digest>/``
(the digest covers the texts, the encoder and the training settings), so a rerun retrains
nothing; induction runs again either way, answered by the response cache and charged.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from ecoflow import history
from ecoflow.bo import BOEvent, FlowBO
from ecoflow.config import EcoflowConfig, load, promptopt_view
from ecoflow.corpus import Corpus, build_corpus
from ecoflow.decoder import RetrieveRewriteDecoder, task_header
from ecoflow.guidance import GuidedFlowSampler
from ecoflow.model.flow import FlowMatchingModel
from ecoflow.sources import CorpusPlan, gather, retrieval_sources, rows_from
from ecoflow.training import fit_local
from promptopt.config import PromptOptConfig
from promptopt.protocols import Scorer, UsageMeter, mean_correct
from promptopt.tasks import Example, Task
from serving.ledger import BudgetExceeded, BudgetLedger
from serving.protocols import LLM, Encoder

log = logging.getLogger(__name__)
PRESET = "gains"
MAX_STEPS = 1500  # optimizer steps of the in-process flow (see the module docstring)


def bench_config(config: PromptOptConfig | EcoflowConfig, seed: int) -> EcoflowConfig:
    """ecoflow's settings for one run: an :class:`EcoflowConfig` as given, or the ``gains``
    preset with a promptopt config's task, scorer and evaluation; every seed set to ``seed``."""
    if isinstance(config, PromptOptConfig):
        base = replace(load(preset=PRESET), task=config.task, scorer=config.scorer,
                       evaluation=config.evaluation, progress=False)
    else:
        base = config
    return replace(base, embed=replace(base.embed, seed=seed), train=replace(base.train, seed=seed),
                   optimize=replace(base.optimize, seed=seed))


def run_ecoflow(config: PromptOptConfig | EcoflowConfig, base_url: str, embed_url: str,
                val: list[Example], train: list[Example], seed: int, budget: int,
                ledger: BudgetLedger, cache_root: Path | None = None) -> list[dict[str, Any]]:
    """EcoFlow on ``val`` within ``budget`` LLM calls charged to ``ledger``; its events.

    Args:
        config: the benchmark's promptopt config (ecoflow's settings from the ``gains``
            preset) or a full :class:`EcoflowConfig`.
        base_url: the ``llm`` app (``.../v1``): induction, decoding and scoring.
        embed_url: the ``embed`` app (``.../embed/v1``).
        val: the examples every instruction is scored on (selection split).
        train: the demonstrations instructions are induced from.
        seed: seeds induction, the flow, the GP fits, sampling and decoding.
        budget: the LLM-call budget (also caps the number of evaluations).
        ledger: the caller's ledger, ``BudgetLedger(max_calls=budget, charge_cached=True)``.
        cache_root: where corpora and flows are cached (default the rayopt cache folder).

    Returns:
        Events as the benchmark reads them: ``evaluated`` (``instruction``, ``score``, ``n``,
        ``correct``, ``llm_calls``, ``round``, ``source``, ``round_trip_cosine``), plus
        ``induce``, ``corpus`` and ``stopped`` records.

    Raises:
        ValueError: ``ledger`` has no call cap or ``budget`` < 1.
    """
    from promptopt import build
    from serving.client import EmbedClient
    from serving.models import cache_dir

    if ledger.max_calls is None:
        raise ValueError("`ledger` must cap calls at the budget: "
                         "BudgetLedger(max_calls=budget, charge_cached=True).")
    eco = bench_config(config, seed)
    view = promptopt_view(eco)
    llm = build.client(eco.scorer, base_url, ledger)
    encoder = EmbedClient(eco.scorer, base_url=embed_url)
    task = build.task(view)
    scorer = build.evaluator(view, llm, table={}, fan_out=False)  # private table: all charged
    root = cache_root if cache_root is not None else cache_dir() / "ecoflow_bench"
    return search(eco, task, llm, encoder, str(encoder.info["id"]), scorer, val, train, budget,
                  build.LedgerMeter(ledger), build.initial(view, task), root)


def search(config: EcoflowConfig, task: Task, llm: LLM, encoder: Encoder, encoder_name: str,
           scorer: Scorer, val: Sequence[Example], train: Sequence[Example], budget: int,
           meter: UsageMeter, start: Sequence[str], cache_root: Path | None = None
           ) -> list[dict[str, Any]]:
    """The run of :func:`run_ecoflow` with its collaborators injected.

    ``llm`` must stop the run by raising :class:`~serving.ledger.BudgetExceeded` (the
    client's ledger does; so does :class:`~promptopt.fakes.FakeBudgetedLLM`), and ``meter``
    reports the calls spent. ``start`` is round 0's head (promptopt's starting instructions).
    ``cache_root``: the corpus-and-flow cache (``None``: none).
    """
    if budget < 1:
        raise ValueError(f"EcoFlow needs `budget` >= 1 LLM call, got {budget}.")
    events: list[dict[str, Any]] = []

    def calls() -> int:
        return meter.used().calls

    plan = CorpusPlan.from_config(config.embed, config.task)
    with torch_threads(1):  # the llm app's replicas hold the other cores
        try:
            pairs, meta, induction = gather(plan, config.embed, llm=llm, task=task, demos=train)
        except BudgetExceeded as exc:
            events.append(record("stopped", reason=f"{type(exc).__name__}: {exc}", llm_calls=calls()))
            return events
        events += [record("induce", **r) for r in induction.requests]
        corpus, model, fit = corpus_and_flow(pairs, meta, encoder, encoder_name, config, cache_root)
        events.append(record("corpus", texts=len(corpus), sources=count(corpus.sources), meta=meta,
                             flow=fit, llm_calls=calls()))
        bo = make_bo(config, task, corpus, model, llm, encoder,
                     EventRecorder(scorer, val, calls, events))
        result = bo.run(history.round_zero(config, corpus, start), budget,
                        max_rounds=config.optimize.max_rounds)
    events.append(record("stopped", reason=result.stop_reason, evaluations=result.evaluations,
                         llm_calls=calls()))
    log.info("ecoflow on %s: %d evaluations, %d calls; stopped: %s", task.name,
             result.evaluations, calls(), result.stop_reason)
    return events


class EventRecorder:
    """Scores texts on ``examples`` and appends each evaluation as an ``evaluated`` event."""

    def __init__(self, scorer: Scorer, examples: Sequence[Example], calls: Callable[[], int],
                 events: list[dict[str, Any]]):
        self.scorer, self.examples, self.calls, self.events = scorer, list(examples), calls, events
        self._correct: dict[str, list[int]] = {}

    def evaluate(self, text: str) -> float:
        outcomes = self.scorer.score(text, self.examples)
        self._correct[text] = [int(o.correct) for o in outcomes]
        return mean_correct(outcomes)

    def __call__(self, event: BOEvent) -> None:
        correct = self._correct.pop(event.text, [])
        line = history.record(event, n=len(correct), correct=correct, llm_calls=self.calls())
        line.pop("embedding", None)  # 384 floats per event: not needed by the benchmark
        self.events.append(line)


def make_bo(config: EcoflowConfig, task: Task, corpus: Corpus, model: FlowMatchingModel,
            llm: LLM, encoder: Encoder, recorder: EventRecorder) -> FlowBO:
    """The BO loop of one run: guided sampler and retrieve-and-rewrite decoder (from the
    retrieval sources, under the task's header), scoring through ``recorder``."""
    o = config.optimize
    keep = rows_from(corpus, retrieval_sources(o.bank_sources, config.embed.include_references))
    decoder = RetrieveRewriteDecoder(
        encoder, llm, [corpus.texts[i] for i in keep], bank_vectors=corpus.vectors[keep], k=o.k,
        num_candidates=o.num_candidates, temperature=o.temperature, max_tokens=o.max_tokens,
        seed=o.seed, header=task_header(task.description))  # fmt: skip
    sampler = GuidedFlowSampler(model, o.scale, o.zero_fraction, o.steps, o.method)
    return FlowBO(sampler, encoder, decoder, recorder.evaluate, batch_size=o.batch_size,
                  beta=o.beta, seed=o.seed, patience=o.patience, on_event=recorder)


def corpus_and_flow(pairs: list[tuple[str, str]], meta: dict[str, Any], encoder: Encoder,
                    encoder_name: str, config: EcoflowConfig, cache_root: Path | None
                    ) -> tuple[Corpus, FlowMatchingModel, dict[str, Any]]:
    """The encoded corpus and its trained flow, from the cache when the same texts, encoder
    and training settings were done before; the fit statistics (``reused`` says which)."""
    key = hashlib.sha256(json.dumps({"pairs": pairs, "encoder": encoder_name,
                                     "train": asdict(config.train), "max_steps": MAX_STEPS},
                                    sort_keys=True).encode()).hexdigest()[:16]
    folder = None if cache_root is None else Path(cache_root) / f"{meta['task']}-s{config.train.seed}-{key}"
    if folder is not None and (folder / "fit.json").is_file():
        corpus = Corpus.load(folder / "corpus.pt")
        state = torch.load(folder / "model.pt", map_location="cpu", weights_only=False)
        fit = json.loads((folder / "fit.json").read_text())
        return corpus, FlowMatchingModel.from_checkpoint(state).eval(), {**fit, "reused": True}
    corpus = build_corpus(pairs, encoder, encoder_name, batch_size=config.embed.batch_size, meta=meta)
    model, fit = fit_local(corpus.vectors, config.train, max_steps=MAX_STEPS)
    if folder is not None:  # fit.json last: it marks a complete entry
        corpus.save(folder / "corpus.pt")
        torch.save(model.to_checkpoint(), folder / "model.pt")
        (folder / "fit.json").write_text(json.dumps(fit))
    return corpus, model, {**fit, "reused": False}


def record(event: str, **fields: Any) -> dict[str, Any]:
    """A non-evaluation event of this method."""
    return {"method": history.METHOD, "event": event, **fields}


def count(sources: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in sources:
        out[s] = out.get(s, 0) + 1
    return out


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """torch on ``n`` threads for the block (process-wide: the benchmark's other methods
    run in threads that do not use torch)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
