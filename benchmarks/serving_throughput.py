"""Serving throughput: the ``llm`` app under concurrent load vs sequential ``generate`` calls.

The same 8, 16 and 32 chat prompts (greedy, up to 64 new tokens) go (a) one at a time through
``model.generate`` in this process and (b) all at once through the ``llm`` Serve app via
``serving.client``, in the same run on the same model. Greedy decoding gives both sides the
same tokens, so the work is equal (the token counts are printed to show it). Sequential
times for 8 and 16 prompts are the sums over the first 8/16 of the 32 timed prompts.

    python benchmarks/serving_throughput.py [--max-new-tokens 64] [llm.max_batch_size=16 ...]

Prints one JSON object per measurement; the last line has ``speedup_8``, ``speedup_16``,
``speedup_32``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

TOPICS = ["the ocean", "a mountain", "coffee", "a library", "autumn", "a city at night", "bicycles",
          "the moon", "a garden", "trains", "winter", "a violin", "bread", "a lighthouse", "rain",
          "chess", "a forest", "the desert", "a market", "snow", "the stars", "a river", "tea",
          "a bridge", "robots", "a storm", "honey", "a clock", "the sea breeze", "a painter",
          "a volcano", "the harvest"]
PROMPTS = [[{"role": "user", "content": f"Write a short paragraph about {t}."}] for t in TOPICS]


def sequential(model_path: str, n: int, max_new_tokens: int, threads: int) -> list[tuple[float, int]]:
    """(seconds, new tokens) per prompt, one ``generate`` call at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32).eval()
    out = []
    for messages in PROMPTS[:n]:
        ids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        t = time.perf_counter()
        with torch.inference_mode():
            gen = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False)
        new = gen.shape[1] - ids["input_ids"].shape[1]
        out.append((time.perf_counter() - t, int(new)))
    del model
    return out


def concurrent(base_url: str, n: int, max_new_tokens: int) -> tuple[float, int]:
    from serving.client import LLMClient
    from serving.settings import ClientConfig

    client = LLMClient(ClientConfig(cache="off", max_concurrency=64), base_url=f"{base_url}/v1")
    t = time.perf_counter()
    outs = client.chat_many(PROMPTS[:n], max_tokens=max_new_tokens, temperature=0.0)
    return time.perf_counter() - t, sum(o.completion_tokens for o in outs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--sizes", default="8,16,32")
    parser.add_argument("overrides", nargs="*", help="ServingConfig overrides, e.g. llm.max_batch_size=16")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    from serving.cluster import connect
    from serving.config import load_config
    from serving.deploy import ensure_running
    from serving.models import resolve_model
    from serving.settings import ServingConfig

    config = load_config(ServingConfig, None, ["enable_embed=false", *args.overrides])
    connect()
    base = ensure_running(config)
    concurrent(base, 2, 4)  # warm-up
    threads = min(int(config.llm.num_cpus), os.cpu_count() or 1)
    seq = sequential(resolve_model(config.llm.model), max(sizes), args.max_new_tokens, threads)
    result = {"max_batch_size": config.llm.max_batch_size, "max_new_tokens": args.max_new_tokens,
              "threads": threads}
    for n in sizes:
        seq_s, seq_tokens = sum(s for s, _ in seq[:n]), sum(k for _, k in seq[:n])
        con_s, con_tokens = concurrent(base, n, args.max_new_tokens)
        row = {"n": n, "sequential_s": round(seq_s, 2), "sequential_tokens": seq_tokens,
               "serve_concurrent_s": round(con_s, 2), "serve_tokens": con_tokens,
               "sequential_tok_per_s": round(seq_tokens / seq_s, 1), "serve_tok_per_s": round(con_tokens / con_s, 1),
               "speedup": round(seq_s / con_s, 2)}
        print(json.dumps(row), flush=True)
        result[f"speedup_{n}"] = row["speedup"]
        result[f"serve_tok_per_s_{n}"] = row["serve_tok_per_s"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
