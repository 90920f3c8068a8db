"""A llama.cpp generation engine (``llm.engine=llamacpp``): the GGUF file, int4/int8 kernels.

Same interface as :class:`serving.engines.hf.HFEngine` (``chat_prompt_ids``,
``text_prompt_ids``, ``generate``), so the ``llm`` app serves it unchanged: prompts are
tokenized with the model's Hugging Face tokenizer and chat template (the same ids the hf
engine sees), then evaluated by llama.cpp through ``llama-cpp-python``. Requests of a batch
run one after another in prompt order, so prompts that share a prefix (one instruction over
many inputs) reuse its KV cache: llama.cpp only evaluates what differs from the previous
prompt.

Per request: ``temperature`` (0 = greedy), ``top_p``, ``max_tokens``, ``stop``, ``n`` and
``seed`` (a seeded choice gives the same text whatever it is batched with: the sampler is
re-seeded per choice). Log-probabilities and ``echo`` are not offered here: the server
answers them with a 400 naming the hf engine. No Ray here.

Streaming is token by token (a request with ``on_delta`` hears each new piece of text as it
is sampled). A request whose ``cancel`` event is set stops at its next token: the loop
checks the event before it asks llama.cpp for another token, and once more when a token
comes out (that token, computed while the cancel arrived, is counted as wasted).
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import Sequence

from serving.engines.hf import GenChoice, GenRequest, GenResult
from serving.engines.stream import CANCELLED, EngineCounters, choice_stream

UNSUPPORTED = ("logprobs", "echo")


def llama_threads(replica_threads: int, cores: int | None = None) -> int:
    """llama.cpp's default thread count: the replica's, leaving one core of the machine free.

    llama.cpp's threads busy-wait for each other at every layer, so a thread that loses its
    core to the Serve proxy, the driver or any other process stalls the rest: on 2 cores,
    2 threads served 0.67 req/s under such load where 1 thread served 3.7 req/s (measured).
    """
    cores = cores or os.cpu_count() or 1
    return max(1, min(replica_threads, cores - 1))


class LlamaCppEngine:
    """Sequential generation over a ``llama_cpp.Llama`` with a Hugging Face tokenizer.

    Args:
        llama: a loaded ``llama_cpp.Llama``.
        tokenizer: the model's Hugging Face tokenizer (chat template, decoding).
        eos_token_ids: tokens that end a completion.
        max_model_len: the context given to llama.cpp (``n_ctx``).
    """

    unsupported = UNSUPPORTED

    def __init__(self, llama, tokenizer, eos_token_ids: Sequence[int], max_model_len: int):
        self.llama, self.tokenizer = llama, tokenizer
        self.eos = set(int(e) for e in eos_token_ids)
        self.max_model_len = max_model_len
        self.counters = EngineCounters()
        # One llama.cpp context holds one KV cache: generations never overlap (Serve runs one
        # batch at a time, but a caller with its own threads might not).
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: str, gguf: str, threads: int, n_ctx: int = 2048) -> LlamaCppEngine:
        """The GGUF file ``gguf`` with the tokenizer of the model folder ``folder``."""
        from llama_cpp import Llama
        from transformers import AutoTokenizer, GenerationConfig

        tokenizer = AutoTokenizer.from_pretrained(folder)
        eos = GenerationConfig.from_pretrained(folder).eos_token_id
        eos_ids = eos if isinstance(eos, list) else [eos if eos is not None else tokenizer.eos_token_id]
        llama = Llama(model_path=gguf, n_ctx=n_ctx, n_threads=threads, n_threads_batch=threads,
                      n_batch=512, verbose=False)  # fmt: skip
        return cls(llama, tokenizer, eos_ids, n_ctx)

    def chat_prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        text = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True,
                                                  tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def text_prompt_ids(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    def generate(self, requests: Sequence[GenRequest]) -> list[GenResult]:
        """Every request's ``n`` choices, in prompt order (shared prefixes are evaluated once)."""
        with self._lock:
            return self._generate(requests)

    def _generate(self, requests: Sequence[GenRequest]) -> list[GenResult]:
        results: dict[int, GenResult] = {}
        for i in sorted(range(len(requests)), key=lambda k: requests[k].prompt_ids):
            req = requests[i]
            choices = [self._choice(req, j) for j in range(req.params.n)]
            results[i] = GenResult(choices, len(req.prompt_ids),
                                   sum(len(c.token_ids) for c in choices))
        return [results[i] for i in range(len(requests))]

    def _choice(self, req: GenRequest, j: int) -> GenChoice:
        p = req.params
        stream = choice_stream(req.on_delta, j, p.stop)
        if req.cancelled:  # cancelled while it waited: nothing evaluated
            self.counters.cancelled += 1
            return GenChoice("", [], CANCELLED)
        if p.max_tokens <= 0:
            return _finished(stream, GenChoice("", [], "length"))
        greedy = p.temperature <= 0
        if not greedy:
            seed = random.getrandbits(31) if p.seed is None else (p.seed * 1_000_003 + j) % 2**31
            self.llama.set_seed(seed)
        tokens: list[int] = []
        text, finish = "", "length"
        steps = self.llama.generate(
            req.prompt_ids, top_k=1 if greedy else 0, top_p=p.top_p, min_p=0.0, typical_p=1.0,
            temp=0.0 if greedy else p.temperature, repeat_penalty=1.0, reset=True,
        )  # fmt: skip
        for token in steps:
            if req.cancelled:  # computed while the cancel arrived: wasted
                self.counters.tokens_after_cancel += 1
                finish = CANCELLED
                break
            if token in self.eos:
                finish = "stop"
                break
            tokens.append(int(token))
            self.counters.tokens += 1
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            hit = [text.index(s) for s in p.stop if s and s in text]
            if hit:
                text, finish = text[: min(hit)], "stop"
                break
            if len(tokens) >= p.max_tokens:
                break
            if req.cancelled:  # before asking llama.cpp for another token
                finish = CANCELLED
                break
            if stream is not None:
                stream.update(text)
        steps.close()  # llama.cpp evaluates nothing more for this choice
        if finish == CANCELLED:
            self.counters.cancelled += 1
            return GenChoice(text, tokens, finish)
        return _finished(stream, GenChoice(text, tokens, finish))


def _finished(stream, choice: GenChoice) -> GenChoice:
    if stream is not None:
        stream.finish(choice.text, choice.finish_reason)
    return choice
