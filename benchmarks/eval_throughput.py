"""Evaluator throughput: one instruction on the same 64 GSM8K questions, three ways.

(a) a sequential loop, one chat request at a time through the ``llm`` Serve app (no cache);
(b) the promptopt evaluator: every request at once through ``chat_many`` to the same app,
    with a fresh evaluation table and a fresh response cache;
(c) the same evaluation again, which must cost 0 LLM calls (the evaluation table answers).

Same model, same endpoint, same run, greedy decoding (so both sides do the same work; the
completion token counts are printed to show it).

    GSM8K_DIR=../shared/data/gsm8k python benchmarks/eval_throughput.py [--n 64] [--max-tokens 64]

Prints one JSON object per measurement; the last line has ``speedup`` and
``second_pass_llm_calls``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from promptopt.evaltable import SqliteEvalTable
from promptopt.evaluator import Evaluator
from promptopt.scoring import LLMScorer
from promptopt.tasks import PromptFormat
from promptopt.tasks.gsm8k import load_gsm8k
from serving.client import LLMClient
from serving.config import load_config
from serving.deploy import ensure_running
from serving.settings import ClientConfig, ServingConfig

INSTRUCTION = "Let's think step by step."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=64, help="GSM8K test questions")
    parser.add_argument("--max-tokens", type=int, default=64, help="answer length (greedy)")
    parser.add_argument("overrides", nargs="*", help="serving key=value, e.g. llm.max_batch_size=16")
    args = parser.parse_args()

    serving = load_config(ServingConfig, None, ["enable_embed=false", *args.overrides])
    base_url = f"{ensure_running(serving)}/v1"
    examples = load_gsm8k("test")[: args.n]
    fmt = PromptFormat()
    params = {"temperature": 0.0, "max_tokens": args.max_tokens}

    # (a) one request at a time, no cache
    seq_client = LLMClient(ClientConfig(cache="off"), base_url=base_url)
    seq_client.chat([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)  # warm
    t = time.perf_counter()
    seq = [seq_client.chat(fmt.messages(e.question, INSTRUCTION), **params) for e in examples]
    seq_s = time.perf_counter() - t
    seq_tokens = sum(c.completion_tokens for c in seq)
    print(json.dumps({"mode": "sequential", "n": len(examples), "seconds": round(seq_s, 2),
                      "completion_tokens": seq_tokens, "llm_calls": len(seq)}))  # fmt: skip

    # (b) the evaluator: concurrent through Serve, fresh table and cache
    with tempfile.TemporaryDirectory() as tmp:
        client = LLMClient(
            ClientConfig(cache_path=str(Path(tmp) / "cache.sqlite"), max_concurrency=64),
            base_url=base_url,
        )
        table = SqliteEvalTable(Path(tmp) / "evals.sqlite")
        evaluator = Evaluator(LLMScorer(client, fmt, model=client.model, table=table, **params))
        t = time.perf_counter()
        outcomes = evaluator.score(INSTRUCTION, examples)
        eval_s = time.perf_counter() - t
        first = client.ledger.usage
        agree = sum(o.output == c.text for o, c in zip(outcomes, seq, strict=True))
        print(json.dumps({"mode": "evaluator", "n": len(examples), "seconds": round(eval_s, 2),
                          "completion_tokens": first.completion_tokens, "llm_calls": first.calls,
                          "accuracy": sum(o.correct for o in outcomes) / len(outcomes),
                          "outputs_identical_to_sequential": agree}))  # fmt: skip

        # (c) the same evaluation again
        t = time.perf_counter()
        evaluator.score(INSTRUCTION, examples)
        again_s = time.perf_counter() - t
        second_calls = client.ledger.usage.calls - first.calls

    print(json.dumps({
        "n": len(examples), "max_tokens": args.max_tokens, "model": client.model,
        "sequential_s": round(seq_s, 2), "evaluator_s": round(eval_s, 2),
        "second_pass_s": round(again_s, 4), "speedup": round(seq_s / eval_s, 2),
        "second_pass_llm_calls": second_calls,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
