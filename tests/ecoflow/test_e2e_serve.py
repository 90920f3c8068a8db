"""ecoflow through the real shared apps on the embedded models (SmolLM2-135M, MiniLM).

1. ``optimize``: corpus through the ``embed`` app → a (briefly trained) flow → guided rounds,
   retrieve-and-rewrite through the ``llm`` app, scoring by promptopt's evaluator → held-out
   report; then the same command again costs no LLM call and writes no event.
2. The retrieve-and-rewrite decoder as the ``embed`` app's decoder (``ecoflow.decoder:factory``).
"""

from __future__ import annotations

import json

import pytest
import torch

from ecoflow.bank import bank
from tests.conftest import GSM8K_DIR as GSM8K

pytestmark = pytest.mark.slow


def quick_flow(vectors: torch.Tensor):
    """A small flow fitted in-process in a second (Ray Train is covered by test_train.py)."""
    from ecoflow.model.flow import FlowMatchingModel

    torch.manual_seed(0)
    model = FlowMatchingModel(vectors.shape[1], width=64, depth=1)
    model.set_normalization(vectors)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(60):
        loss = model.loss(vectors)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def test_optimize_through_serve_then_resume_is_free(serving_stack, tmp_path, monkeypatch):
    from ecoflow.config import load
    from ecoflow.corpus import build_corpus
    from ecoflow.optimize import run_optimize
    from serving.client import EmbedClient
    from serving.runs import RunDir

    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path / "results"))
    run = RunDir("ecoflow", "e2e")
    encoder = EmbedClient(base_url=f"{serving_stack.base_url}/embed/v1", cache=None)
    corpus = build_corpus([(t, "bank") for t in bank()], encoder, encoder_name=encoder.info["id"])
    corpus.save(run.path / "corpus.pt")
    torch.save(quick_flow(corpus.vectors).to_checkpoint(), run.path / "model.pt")
    overrides = [
        "name=e2e", f"task.data_dir={GSM8K}", "task.train_size=3", "task.test_size=3",
        "task.max_tokens=24", "optimize.evaluations=4", "optimize.batch_size=2",
        "optimize.bank_initial=1", "optimize.num_candidates=2", "optimize.max_tokens=24",
        "optimize.steps=10", f"evaluation.table={tmp_path / 'evals.sqlite'}",
        f"scorer.cache_path={tmp_path / 'cache.sqlite'}", "evaluation.n_resamples=200",
        "evaluation.fan_out_above=2", "evaluation.chunk_size=2", "progress=false",
    ]  # fmt: skip
    first = run_optimize(load(preset="demo", overrides=overrides))

    folder = run.path
    for name in ("summary.json", "progress.png", "progress.html", "run.log", "ledger.json",
                 "surrogate.pt"):
        assert (folder / name).is_file(), name
    events = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    assert [e["source"] for e in events] == ["initial", "initial", "guided", "guided"]
    assert first["evaluations"] == 4 and first["stopped"] == "budget"
    for e in events:
        assert e["n"] == 3 and len(e["embedding"]) == 384 and e["instruction"] == e["text"]
    guided = [e for e in events if e["source"] == "guided"]
    assert all(-1.0 <= e["round_trip_cosine"] <= 1.0 for e in guided)
    assert first["round_trip_cosine"]["values"] == [e["round_trip_cosine"] for e in guided]
    log = (folder / "run.log").read_text()
    assert all(json.dumps(e["text"], ensure_ascii=False) in log for e in guided)  # in full
    assert '"candidates"' in log  # every decode: neighbours, candidates and their cosines
    held = first["heldout"]
    assert held["n"] == 3 and set(held["results"]) == {"baseline", "best"}
    for r in held["results"].values():
        assert 0.0 <= r["ci95"][0] <= r["accuracy"] <= r["ci95"][1] <= 1.0
    # decoding (2 targets x 2 candidates, sampled) and scoring (4 texts x 3 problems) were paid
    assert first["usage"]["optimization"]["calls"] >= 4 * 3

    again = run_optimize(load(preset="demo", overrides=overrides))
    assert again["resume"] == {"replayed_events": 4, "new_events": 0}
    assert again["usage"]["optimization"]["calls"] == first["usage"]["optimization"]["calls"]
    assert again["usage"]["report"]["calls"] == 0
    assert len((folder / "events.jsonl").read_text().splitlines()) == 4


def test_retrieve_rewrite_decoder_inside_the_embed_app(serving_stack):
    """``embed.decoder=ecoflow.decoder:factory``: the replica's MiniLM retrieves, the ``llm``
    app rewrites, ``/v1/decode`` returns new text close to the target."""
    from ray import serve

    from ecoflow.bo import cosine
    from serving.client import EmbedClient
    from serving.embed_app import build_embed_app
    from serving.settings import EmbedAppConfig

    base = serving_stack.base_url
    config = EmbedAppConfig(decoder="ecoflow.decoder:factory", decoder_kwargs={
        "llm_base_url": f"{base}/v1", "k": 3, "num_candidates": 2, "max_tokens": 32})
    serve.run(build_embed_app(config), name="embed-ecoflow-test", route_prefix="/embed-ecoflow")
    try:
        client = EmbedClient(base_url=f"{base}/embed-ecoflow/v1", cache=None)
        assert client.info["decoder"] == "ecoflow.decoder:factory"
        # the plugin's default bank is the generic one: a target in its style
        target = client.encode(["Reply with only the answer and nothing else."])
        [text] = client.decode(target, seed=3)
        assert text.strip()
        assert cosine(client.encode([text])[0], target[0]) > 0.4, text
    finally:
        serve.delete("embed-ecoflow-test")
