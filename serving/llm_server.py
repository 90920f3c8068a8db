"""The ``llm`` app's request handling without Serve: validate, build engine requests, format.

:class:`LLMServer` is the plain predictor the Serve deployment wraps (Ray's
``app_builder`` pattern); tests drive it directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from serving.engines.hf import GenRequest, GenResult, HFEngine, SamplingParams
from serving.limits import RequestLimits, check_prompt_bytes
from serving.openai_api import (
    APIError,
    ChatCompletionRequest,
    CompletionRequest,
    completion_id,
    now,
    usage,
)
from serving.streaming import Generate, run_cancellable, sse_events


class LLMServer:
    """OpenAI semantics over an :class:`HFEngine`.

    Args:
        engine: the generation engine.
        name: the model name clients must send.
        default_max_tokens: chat ``max_tokens`` when a request gives none.
        max_prompt_tokens: longer prompts are rejected (default: context length - 1); a prompt
            of more than 8 bytes per allowed token is rejected before it is tokenized.
        limits: sequences and tokens one request may ask for (the deployment's
            ``reconfigure`` replaces them).
    """

    def __init__(self, engine: HFEngine, name: str, default_max_tokens: int = 256,
                 max_prompt_tokens: int | None = None, limits: RequestLimits | None = None):
        self.engine, self.name, self.default_max_tokens = engine, name, default_max_tokens
        self.context = engine.max_model_len
        self.max_prompt_tokens = min(max_prompt_tokens or self.context - 1, self.context - 1)
        self.limits = limits or RequestLimits()

    @property
    def max_body_bytes(self) -> int:
        """The HTTP body limit: ``limits.max_body_bytes`` or one derived from the context."""
        return self.limits.body_bytes(self.context)

    def models(self) -> dict:
        return {"object": "list", "data": [
            {"id": self.name, "object": "model", "created": 0, "owned_by": "rayopt",
             "max_model_len": self.context}]}

    # -- requests --------------------------------------------------------------------------
    def _check_model(self, model: str) -> None:
        if model != self.name:
            raise APIError(404, f"The model `{model}` does not exist; this server serves `{self.name}`.",
                           param="model", code="model_not_found")

    def _gen_request(self, prompt_ids: list[int], max_tokens: int, body, logprobs: int | None,
                     echo: bool = False) -> GenRequest:
        n_prompt = len(prompt_ids)
        if n_prompt == 0:
            raise APIError(400, "the prompt is empty.", param="prompt")
        if n_prompt > self.max_prompt_tokens:
            raise APIError(400, f"the prompt has {n_prompt} tokens; this server accepts at most "
                           f"{self.max_prompt_tokens}. Shorten it.", param="messages",
                           code="context_length_exceeded")
        if n_prompt + max_tokens > self.context:
            raise APIError(400, f"This model's maximum context length is {self.context} tokens. "
                           f"However, you requested {n_prompt + max_tokens} tokens ({n_prompt} in "
                           f"the prompt, {max_tokens} for the completion). Reduce `max_tokens`.",
                           param="max_tokens", code="context_length_exceeded")
        unsupported = getattr(self.engine, "unsupported", ())
        for name, asked in (("logprobs", logprobs is not None), ("echo", echo)):
            if asked and name in unsupported:
                raise APIError(400, f"`{name}` is not available on this server's engine "
                               f"({type(self.engine).__name__}); serve the model with "
                               "`llm.engine=hf` (or vllm) for it.", param=name,
                               code="unsupported_parameter")
        params = SamplingParams(max_tokens=max_tokens, temperature=body.temperature, top_p=body.top_p,
                                stop=tuple(body.stop), n=body.n, seed=body.seed, logprobs=logprobs,
                                echo=echo)
        return GenRequest(prompt_ids, params)

    @staticmethod
    def _check_stream(body, **asked: bool) -> None:
        """``stream`` streams text only: log-probabilities and ``echo`` are a 400 with it."""
        for name, on in asked.items():
            if body.stream and on:
                raise APIError(400, f"`{name}` cannot be streamed here; set `stream: false` to "
                               f"get `{name}`, or drop it to stream.", param=name,
                               code="unsupported_parameter")

    def prepare_chat(self, body: ChatCompletionRequest) -> GenRequest:
        """Validate a chat request and build its engine request (cheap checks first)."""
        self._check_model(body.model)
        self._check_stream(body, logprobs=body.logprobs)
        max_tokens = body.max_completion_tokens or body.max_tokens or self.default_max_tokens
        self.limits.check_work(prompts=1, n=body.n, max_tokens=max_tokens)
        messages = [{"role": "system" if m.role == "developer" else m.role, "content": m.text}
                    for m in body.messages]
        check_prompt_bytes(sum(len(m["content"].encode()) for m in messages),
                           self.max_prompt_tokens, param="messages")
        try:
            ids = self.engine.chat_prompt_ids(messages)
        except Exception as exc:  # noqa: BLE001 — a template error is the caller's input
            raise APIError(400, f"could not apply the chat template: {exc}", param="messages") from exc
        top = body.top_logprobs or 0
        return self._gen_request(ids, max_tokens, body, top if body.logprobs else None)

    def prepare_completion(self, body: CompletionRequest) -> list[GenRequest]:
        """Validate a completions request and build one engine request per prompt."""
        self._check_model(body.model)
        self._check_stream(body, echo=body.echo, logprobs=body.logprobs is not None)
        prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
        max_tokens = body.max_tokens or 16  # `null` is OpenAI's default of 16
        self.limits.check_work(prompts=len(prompts), n=body.n, max_tokens=max_tokens)
        for p in prompts:
            check_prompt_bytes(len(p.encode()), self.max_prompt_tokens, param="prompt")
        return [self._gen_request(self.engine.text_prompt_ids(p), max_tokens, body,
                                  body.logprobs, echo=body.echo) for p in prompts]

    # -- running ---------------------------------------------------------------------------
    async def run(self, requests: list[GenRequest], generate: Generate) -> list[GenResult]:
        """Generate ``requests``; a cancelled caller (client gone) cancels their work."""
        return await run_cancellable(requests, generate)

    def stream(self, body: ChatCompletionRequest | CompletionRequest, requests: list[GenRequest],
               generate: Generate) -> AsyncIterator[str]:
        """The Server-Sent Events of a ``stream: true`` request (see :mod:`serving.streaming`)."""
        kind = "chat" if isinstance(body, ChatCompletionRequest) else "completion"
        return sse_events(kind, self.name, requests, body.n, body.include_usage, generate)

    # -- responses -------------------------------------------------------------------------
    def chat_response(self, body: ChatCompletionRequest, result: GenResult) -> dict:
        choices = []
        for i, c in enumerate(result.choices):
            choice = {"index": i, "message": {"role": "assistant", "content": c.text},
                      "finish_reason": c.finish_reason, "logprobs": None}
            if c.logprobs is not None:
                choice["logprobs"] = {"content": [
                    {"token": tok, "logprob": lp, "bytes": list(tok.encode()),
                     "top_logprobs": [{"token": t, "logprob": v, "bytes": list(t.encode())}
                                      for t, v in top.items()]}
                    for tok, lp, top in c.logprobs]}
            choices.append(choice)
        return {"id": completion_id("chatcmpl"), "object": "chat.completion", "created": now(),
                "model": self.name, "choices": choices,
                "usage": usage(result.prompt_tokens, result.completion_tokens)}

    def completion_response(self, body: CompletionRequest, results: list[GenResult]) -> dict:
        prompts = [body.prompt] if isinstance(body.prompt, str) else body.prompt
        choices = []
        for prompt, result in zip(prompts, results, strict=True):
            for c in result.choices:
                text = (prompt + c.text) if body.echo else c.text
                entry = {"index": len(choices), "text": text, "finish_reason": c.finish_reason,
                         "logprobs": None}
                if body.logprobs is not None:
                    entry["logprobs"] = _legacy_logprobs(
                        (result.prompt_logprobs or []) if body.echo else [], c.logprobs or [])
                choices.append(entry)
        return {"id": completion_id("cmpl"), "object": "text_completion", "created": now(),
                "model": self.name, "choices": choices,
                "usage": usage(sum(r.prompt_tokens for r in results),
                               sum(r.completion_tokens for r in results))}


def _legacy_logprobs(prompt: list, generated: list) -> dict:
    """The ``/v1/completions`` logprobs object: tokens, token_logprobs, top_logprobs, offsets."""
    tokens, token_logprobs, top_logprobs, offsets, offset = [], [], [], [], 0
    for tok, lp, top in [*prompt, *generated]:
        tokens.append(tok)
        token_logprobs.append(lp)
        top_logprobs.append(top or None)
        offsets.append(offset)
        offset += len(tok)
    return {"tokens": tokens, "token_logprobs": token_logprobs, "top_logprobs": top_logprobs,
            "text_offset": offsets}
