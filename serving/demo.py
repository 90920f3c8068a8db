"""The main job for now: deploy the shared apps on the embedded models and use them.

Eight chats go out concurrently (the hf engine batches them), one completion returns
log-probabilities of its prompt (``echo``), three sentences are embedded, and the chats are
repeated to show the cache answering them for free.
"""

from __future__ import annotations

import json
import math
import time

from serving.client import EmbedClient, LLMClient
from serving.deploy import ensure_running
from serving.settings import ClientConfig, ServingConfig

QUESTIONS = [
    "What is 7 times 8?", "Name the largest planet in the solar system.",
    "Give one word that rhymes with 'light'.", "What is the capital of Japan?",
    "How many legs does a spider have?", "What colour do you get mixing blue and yellow?",
    "Write a five-word sentence about rain.", "What is 15 minus 6?",
]


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def run_demo(config: ServingConfig) -> dict:
    """Deploy (or reuse) the apps, call them through the clients, print and return a summary."""
    t0 = time.perf_counter()
    base = ensure_running(config)
    deployed_s = time.perf_counter() - t0
    llm = LLMClient(ClientConfig(), base_url=f"{base}/v1")
    chats = [[{"role": "user", "content": q}] for q in QUESTIONS]

    t1 = time.perf_counter()
    answers = llm.chat_many(chats, max_tokens=48, temperature=0.0)
    first_s = time.perf_counter() - t1
    for q, a in zip(QUESTIONS, answers, strict=True):
        print(f"Q: {q}\nA: {a.text}\n")

    t2 = time.perf_counter()
    again = llm.chat_many(chats, max_tokens=48, temperature=0.0)
    repeat_s = time.perf_counter() - t2

    scored = llm.complete("The capital of France is", max_tokens=3, temperature=0.0, logprobs=1, echo=True)
    print("completion with prompt log-probs:", [(t.token, t.logprob) for t in scored.choices[0].logprobs])

    summary = {"deploy_s": round(deployed_s, 1), "chat_8_concurrent_s": round(first_s, 2),
               "chat_8_repeat_s": round(repeat_s, 3), "repeat_all_cached": all(a.cached for a in again),
               "ledger": llm.ledger.state()}
    if config.enable_embed:
        embed = EmbedClient(ClientConfig(), base_url=f"{base}/embed/v1", cache=None)
        v = embed.encode(["A cat sits on the mat.", "A kitten rests on a rug.", "Stocks fell sharply today."])
        summary["embed_dim"] = len(v[0])
        summary["cosine_cat_kitten"] = round(_cosine(v[0], v[1]), 3)
        summary["cosine_cat_stocks"] = round(_cosine(v[0], v[2]), 3)
    print(json.dumps(summary))
    return summary
