"""A transformers generation engine for batches of requests with per-request parameters.

``model.generate`` takes one set of sampling parameters and one RNG for a whole batch, but a
dynamically batched server mixes requests with different ``temperature``, ``max_tokens``,
``stop`` and ``seed``. This engine runs the decode loop itself over the model's KV cache:
left-padded prefill, then one token per step for every live row, each row sampled with its
own parameters and its own ``torch.Generator`` (so a seeded request gives the same answer
whatever it is batched with). Finished rows leave the batch (``DynamicCache.batch_select_indices``).
Log-probabilities are the model's raw next-token log-softmax (before temperature / top-p),
as vLLM reports them by default.

Streaming is per decode step: a request with ``on_delta`` hears each row's new text after
every step of the batch it is in. A request whose ``cancel`` event is set leaves the batch at
the next step (its rows are dropped like finished ones).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from serving.engines.stream import (
    CANCELLED,
    ChoiceStream,
    DeltaCallback,
    EngineCounters,
    choice_stream,
    is_cancelled,
)


@dataclass(frozen=True)
class SamplingParams:
    """Per-request generation parameters (OpenAI semantics)."""

    max_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    n: int = 1
    seed: int | None = None
    logprobs: int | None = None  # None: no logprobs; k >= 0: chosen token + top-k
    echo: bool = False  # completions: prepend the prompt (and its logprobs)


@dataclass
class GenRequest:
    """One prompt's generation.

    Attributes:
        prompt_ids: the prompt's token ids.
        params: its sampling parameters.
        on_delta: streaming: called from the engine's thread with each choice's new text
            (see :class:`serving.engines.stream.ChoiceStream`).
        cancel: set it (from any thread) to stop this request's choices at the next token;
            their results then carry ``finish_reason`` ``"cancelled"``.
    """

    prompt_ids: list[int]
    params: SamplingParams
    on_delta: DeltaCallback | None = None
    cancel: threading.Event | None = None

    @property
    def cancelled(self) -> bool:
        return is_cancelled(self.cancel)


@dataclass
class GenChoice:
    text: str
    token_ids: list[int]
    finish_reason: str
    # per generated token: (token string, logprob, {top token: logprob})
    logprobs: list[tuple[str, float, dict[str, float]]] | None = None


@dataclass
class GenResult:
    choices: list[GenChoice]
    prompt_tokens: int
    completion_tokens: int
    prompt_logprobs: list[tuple[str, float | None, dict[str, float]]] | None = None


@dataclass
class _Row:
    """One choice being decoded."""

    request: int
    params: SamplingParams
    generator: torch.Generator | None
    cancel: threading.Event | None = None
    stream: ChoiceStream | None = None
    tokens: list[int] = field(default_factory=list)
    logprobs: list[tuple[str, float, dict[str, float]]] = field(default_factory=list)
    text: str = ""
    finish_reason: str | None = None


class HFEngine:
    """Batched generation over a causal LM and its tokenizer (no Ray here).

    Args:
        model: a transformers causal LM in eval mode.
        tokenizer: its tokenizer (needs an EOS token; chat needs a chat template).
        eos_token_ids: tokens that end a completion (default: the generation config's).
    """

    def __init__(self, model, tokenizer, eos_token_ids: Sequence[int] | None = None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        if eos_token_ids is None:
            eos = model.generation_config.eos_token_id
            eos_token_ids = eos if isinstance(eos, list) else [eos if eos is not None else tokenizer.eos_token_id]
        self.eos = set(int(e) for e in eos_token_ids)
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else next(iter(self.eos))
        self.max_model_len = int(getattr(model.config, "max_position_embeddings", 2048))
        self.counters = EngineCounters()

    @classmethod
    def load(cls, path: str, dtype: str = "auto", device: str | None = None) -> HFEngine:
        """Load a model folder or hub id (fp32 on CPU, bf16 on GPU unless ``dtype`` says)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype == "auto":
            dtype = "bfloat16" if device == "cuda" else "float32"
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(device)
        return cls(model, tokenizer)

    # -- prompts ---------------------------------------------------------------------------
    def chat_prompt_ids(self, messages: Sequence[dict[str, str]]) -> list[int]:
        text = self.tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=False)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def text_prompt_ids(self, prompt: str) -> list[int]:
        return self.tokenizer(prompt, add_special_tokens=False)["input_ids"]

    # -- generation ------------------------------------------------------------------------
    @torch.inference_mode()
    def generate(self, requests: Sequence[GenRequest]) -> list[GenResult]:
        """Generate every request's ``n`` choices in one batched decode loop."""
        rows = [
            _Row(i, req.params, _generator(req.params, j), req.cancel,
                 choice_stream(req.on_delta, j, req.params.stop))
            for i, req in enumerate(requests)
            for j in range(req.params.n)
        ]
        prompt_logprobs = {i: self._prompt_logprobs(r) for i, r in enumerate(requests)
                           if r.params.echo and not r.cancelled}
        for row in rows:
            if is_cancelled(row.cancel):  # cancelled while it waited for this batch
                self._cancel(row)
        live = [r for r in rows if r.params.max_tokens > 0 and r.finish_reason is None]
        if live:
            self._decode([requests[r.request].prompt_ids for r in live], live)
        for row in rows:
            if row.finish_reason is None:  # max_tokens 0
                _finish(row, "length")
        results = []
        for i, req in enumerate(requests):
            mine = [r for r in rows if r.request == i]
            choices = [
                GenChoice(r.text, r.tokens, r.finish_reason, r.logprobs if req.params.logprobs is not None else None)
                for r in mine
            ]
            results.append(
                GenResult(choices, len(req.prompt_ids), sum(len(r.tokens) for r in mine), prompt_logprobs.get(i))
            )
        return results

    def _decode(self, prompts: list[list[int]], rows: list[_Row]) -> None:
        device = self.model.device
        width = max(len(p) for p in prompts)
        ids = torch.tensor([[self.pad_id] * (width - len(p)) + p for p in prompts], device=device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
        cache, active = out.past_key_values, list(range(len(rows)))
        logits = out.logits[:, -1, :].float()
        while True:
            next_ids = self._step(logits, [rows[a] for a in active])
            for a in active:  # cancelled during this step: leave before the next one
                if rows[a].finish_reason is None and is_cancelled(rows[a].cancel):
                    self._cancel(rows[a])
            keep = [k for k, a in enumerate(active) if rows[a].finish_reason is None]
            if not keep:
                return
            if len(keep) < len(active):  # finished rows leave the batch
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask, positions, next_ids = mask[index], positions[index], next_ids[index]
                active = [active[k] for k in keep]
            mask = torch.cat([mask, mask.new_ones(len(active), 1)], dim=1)
            positions = positions[:, -1:] + 1
            out = self.model(
                input_ids=next_ids[:, None], attention_mask=mask, position_ids=positions,
                past_key_values=cache, use_cache=True,
            )
            cache, logits = out.past_key_values, out.logits[:, -1, :].float()

    def _step(self, logits: torch.Tensor, rows: list[_Row]) -> torch.Tensor:
        """Pick one token per row (``batch x vocab`` logits); update texts and finish states."""
        logprobs = torch.log_softmax(logits, dim=-1)
        chosen = logits.argmax(dim=-1)
        for k, row in enumerate(rows):
            if row.params.temperature > 0:
                chosen[k] = _sample(logits[k], row.params, row.generator)
        for k, row in enumerate(rows):
            if is_cancelled(row.cancel):  # this step's token was computed for nobody
                self.counters.tokens_after_cancel += 1
                self._cancel(row)
                continue
            token = int(chosen[k])
            if row.params.logprobs is not None:
                row.logprobs.append(self._token_logprobs(logprobs[k], token, row.params.logprobs))
            if token in self.eos:
                _finish(row, "stop")
                continue
            row.tokens.append(token)
            self.counters.tokens += 1
            row.text = self.tokenizer.decode(row.tokens, skip_special_tokens=True)
            hit = [row.text.index(s) for s in row.params.stop if s and s in row.text]
            if hit:
                row.text = row.text[: min(hit)]
                _finish(row, "stop")
            elif len(row.tokens) >= row.params.max_tokens:
                _finish(row, "length")
            elif row.stream is not None:
                row.stream.update(row.text)
        return chosen

    def _cancel(self, row: _Row) -> None:
        row.finish_reason = CANCELLED
        self.counters.cancelled += 1

    def _token_logprobs(self, logprobs: torch.Tensor, token: int, top_k: int):
        top: dict[str, float] = {}
        if top_k > 0:
            values, indices = logprobs.topk(top_k)
            top = {self.tokenizer.decode([int(i)]): float(v) for v, i in zip(values, indices, strict=True)}
        return self.tokenizer.decode([token]), float(logprobs[token]), top

    def _prompt_logprobs(self, request: GenRequest):
        """Log-probability of each prompt token given the ones before it (``echo``)."""
        ids = torch.tensor([request.prompt_ids], device=self.model.device)
        logprobs = torch.log_softmax(self.model(input_ids=ids).logits[0].float(), dim=-1)
        k = request.params.logprobs or 0
        out = [(self.tokenizer.decode([request.prompt_ids[0]]), None, {})]
        for pos, token in enumerate(request.prompt_ids[1:]):
            out.append(self._token_logprobs(logprobs[pos], token, k))
        return out


def _finish(row: _Row, reason: str) -> None:
    row.finish_reason = reason
    if row.stream is not None:
        row.stream.finish(row.text, reason)


def _generator(params: SamplingParams, choice: int) -> torch.Generator | None:
    if params.temperature <= 0:
        return None
    seed = random.getrandbits(63) if params.seed is None else (params.seed * 1_000_003 + choice) % 2**63
    return torch.Generator().manual_seed(seed)


def _sample(logits: torch.Tensor, params: SamplingParams, generator: torch.Generator) -> torch.Tensor:
    """Temperature + nucleus sampling of one row of logits (on CPU, for the row's RNG)."""
    probs = torch.softmax(logits.cpu() / params.temperature, dim=-1)
    if params.top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        cut = sorted_probs.cumsum(-1) - sorted_probs > params.top_p  # keep the token crossing top_p
        sorted_probs[cut] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator)[0].to(logits.device)
