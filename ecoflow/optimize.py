"""``python -m ecoflow optimize``: guided-flow BO of a task's instruction through the shared apps.

The run reads ``corpus.pt`` and ``model.pt`` from its folder (``embed`` and ``train`` wrote
them), deploys or reuses the ``llm`` and ``embed`` apps, and runs :class:`ecoflow.bo.FlowBO`
with promptopt's evaluator (the same shared evaluation table, the same budget ledger, the same
held-out report and progress plot). Every evaluation is one ``events.jsonl`` line; every decode
is logged in full to ``run.log`` with its candidates and round-trip cosines; the surrogate of
the latest round is checkpointed to ``surrogate.pt``. The same command resumes a killed run:
recorded evaluations are replayed, the interrupted round is sampled and decoded again from
the same seeds (answered by the response cache), and only unscored texts are scored.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from ecoflow import history
from ecoflow.bo import BOEvent, BOResult, FlowBO
from ecoflow.config import EcoflowConfig, promptopt_view
from ecoflow.corpus import Corpus
from ecoflow.decoder import RetrieveRewriteDecoder, task_header
from ecoflow.guidance import GuidedFlowSampler
from ecoflow.jobs import load_corpus, load_model, serve_apps
from ecoflow.sources import retrieval_sources, rows_from
from ecoflow.surrogate import GPSurrogate
from promptopt import build
from promptopt.jobs import final_report, saved_ledger
from serving.client import EmbedClient, LLMClient
from serving.ledger import BudgetLedger
from serving.protocols import Decoder
from serving.runs import RunDir, attach_run_log, read_jsonl
from serving.stats import accuracy

log = logging.getLogger(__name__)
event_log = logging.getLogger("ecoflow.events")  # full prompts, to the run's run.log


class LoggedDecoder:
    """Retrieve-and-rewrite that logs every decode in full (neighbours, candidates, cosines)."""

    def __init__(self, decoder: RetrieveRewriteDecoder):
        self.decoder = decoder

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]:
        reports = self.decoder.decode_with_report(vectors, **options)
        for r in reports:
            event_log.info("decoded %s", json.dumps(
                {"text": r.text, "round_trip_cosine": r.cosine, "neighbours": r.neighbours,
                 "candidates": r.candidates, "replies": r.replies, "options": options},
                ensure_ascii=False))
        return [r.text for r in reports]


def make_decoder(config: EcoflowConfig, corpus: Corpus, encoder: EmbedClient,
                 llm: LLMClient, description: str | None = None) -> Decoder:
    """``retrieve``: retrieve-and-rewrite on the corpus texts of the retrieval sources
    (:func:`ecoflow.sources.retrieval_sources`), under a header naming the task's kind;
    ``serve``: the ``embed`` app's ``/v1/decode`` (SONAR on GPU clusters)."""
    o = config.optimize
    if o.decoder == "serve":
        return encoder
    keep = rows_from(corpus, retrieval_sources(o.bank_sources, config.embed.include_references))
    return LoggedDecoder(RetrieveRewriteDecoder(
        encoder, llm, [corpus.texts[i] for i in keep], bank_vectors=corpus.vectors[keep],
        k=o.k, num_candidates=o.num_candidates, temperature=o.temperature,
        max_tokens=o.max_tokens, seed=o.seed, header=task_header(description)))


class Recorder:
    """Scores texts on the training examples and writes each evaluation as it happens."""

    def __init__(self, run: RunDir, evaluator, examples, ledger: BudgetLedger, total: int,
                 progress: bool):
        self.run, self.evaluator, self.examples, self.ledger = run, evaluator, examples, ledger
        self.outcomes: dict[str, list] = {}
        self.new = 0
        self.bar = tqdm(total=total, desc="ecoflow evaluations", unit="prompt", disable=not progress)

    def evaluate(self, text: str) -> float:
        self.outcomes[text] = self.evaluator.score(text, self.examples)
        return accuracy([int(o.correct) for o in self.outcomes[text]]).value

    def __call__(self, event: BOEvent) -> None:
        correct = [int(o.correct) for o in self.outcomes.pop(event.text, [])]
        usage = self.ledger.usage
        line = history.record(event, n=len(correct), correct=correct, llm_calls=usage.calls,
                              llm_tokens=usage.total_tokens, time=round(time.time(), 3))
        self.run.append(line)
        self.run.write_json("ledger.json", self.ledger.state())
        event_log.info("event %s", json.dumps({k: v for k, v in line.items() if k != "embedding"},
                                              ensure_ascii=False))
        self.new += 1
        self.bar.update(1)


def checkpointer(run: RunDir, config: EcoflowConfig):
    """``on_fit``: the latest round's surrogate and sampler settings to ``surrogate.pt``."""

    def save(rnd: int, gp: GPSurrogate | None) -> None:
        if gp is None:
            return
        state = {"round": rnd, "gp": gp.to_checkpoint(), "optimize": vars(config.optimize)}
        tmp = run.path / ".surrogate.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(run.path / "surrogate.pt")

    return save


def past_events(run: RunDir, config: EcoflowConfig, encoder: EmbedClient) -> list[dict]:
    """Recorded BO events; on a fresh run, the warm-start records (encoded, then written)."""
    recorded = history.bo_events(run.events())
    if recorded or not config.optimize.warm_start:
        return recorded
    warm = history.warm_start(read_jsonl_checked(config.optimize.warm_start), config.task.train_size)
    vectors = encoder.encode([w["text"] for w in warm])
    for w, v in zip(warm, vectors, strict=True):
        w["embedding"] = list(v)
        run.append(history.record(BOEvent.from_dict(w)))
    log.info("warm start: %d scored texts from %s", len(warm), config.optimize.warm_start)
    return history.bo_events(run.events())


def read_jsonl_checked(path: str) -> list[dict]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"`optimize.warm_start` file {path} does not exist.")
    return list(read_jsonl(Path(path)))


def run_optimize(config: EcoflowConfig) -> dict[str, Any]:
    """The BO run and its held-out report; returns (and writes) ``summary.json``."""
    from serving.cluster import pin_threads

    t0 = time.perf_counter()
    pin_threads(1)  # the driver samples; the replicas hold the cores
    run = RunDir("ecoflow", config.name)
    corpus, model = load_corpus(run), load_model(run)  # before anything is written
    run.save_config(config)
    attach_run_log(run, event_log)
    base_url = serve_apps(config, llm=True)
    encoder = EmbedClient(config.scorer, base_url=f"{base_url}/embed/v1")
    check_space(corpus, model.dim, encoder)
    po = promptopt_view(config)
    ledger = saved_ledger(run, config.budget.max_calls, config.budget.max_tokens)
    llm = build.client(config.scorer, f"{base_url}/v1", ledger)
    train, _, test = build.samples(po)
    table = build.eval_table(po)
    o = config.optimize
    recorder = Recorder(run, build.evaluator(po, llm, table), train, ledger, o.evaluations,
                        config.progress)
    task = build.task(po)
    sampler = GuidedFlowSampler(model.eval(), o.scale, o.zero_fraction, o.steps, o.method)
    decoder = make_decoder(config, corpus, encoder, llm, task.description)
    bo = FlowBO(sampler, encoder, decoder, recorder.evaluate,
                batch_size=o.batch_size, beta=o.beta, seed=o.seed, patience=o.patience,
                on_event=recorder, on_fit=checkpointer(run, config))
    prior = past_events(run, config, encoder)
    initial = history.round_zero(config, corpus, build.initial(po, task))
    result = bo.run(initial, o.evaluations, events=prior, max_rounds=o.max_rounds)
    recorder.bar.close()
    log.info("ecoflow: replayed %d recorded events, wrote %d new; stopped: %s",
             len(prior), recorder.new, result.stop_reason)
    summary = report(config, run, result, base_url, table, test)
    summary.update(usage={"optimization": ledger.state(), "report": summary.pop("report_usage")},
                   resume={"replayed_events": len(prior), "new_events": recorder.new},
                   wall_s=round(time.perf_counter() - t0, 1))
    run.write_json("summary.json", summary)
    return summary


def check_space(corpus: Corpus, model_dim: int, encoder: EmbedClient) -> None:
    """The corpus, the flow and the served encoder must share one embedding space."""
    served = str(encoder.info["id"])
    if corpus.encoder != served or corpus.dim != encoder.dim or model_dim != corpus.dim:
        raise ValueError(f"the corpus was embedded with `{corpus.encoder}` ({corpus.dim}-d) and the "
                         f"flow is {model_dim}-d, but the `embed` app serves `{served}` "
                         f"({encoder.dim}-d): re-run `embed` and `train` against this app.")


def report(config: EcoflowConfig, run: RunDir, result: BOResult, base_url: str, table,
           test) -> dict[str, Any]:
    """Held-out baseline vs best (promptopt's report), the progress plot, decode fidelity."""
    view = promptopt_view(config)
    best = result.best.text if result.best is not None else build.task(view).baseline
    final = final_report(view, run, f"{base_url}/v1", table, test, best,
                         "ecoflow")
    cosines = [e.round_trip_cosine for e in result.events if e.round_trip_cosine is not None]
    return {
        "method": "ecoflow", "name": config.name, "model": final["model"],
        "decoder": config.optimize.decoder, "stopped": result.stop_reason,
        "evaluations": result.evaluations,
        "rounds": max((e.round for e in result.events), default=0),
        "best_train": None if result.best is None else {
            "instruction": result.best.text, "score": result.best.score,
            "round": result.best.round, "source": result.best.source},
        "round_trip_cosine": {"n": len(cosines), "values": cosines,
                              "mean": statistics.fmean(cosines) if cosines else None,
                              "min": min(cosines, default=None), "max": max(cosines, default=None)},
        "heldout": final["heldout"], "report_usage": final["report_usage"],
    }  # fmt: skip
