"""How much one request to the ``llm`` app may ask for, checked before any real work.

Three bounds, each cheaper than what it protects:

- the HTTP body (:func:`default_body_bytes`, enforced by
  :class:`serving.http_guard.BodyLimitMiddleware` before the body is parsed);
- a prompt's bytes (:func:`check_prompt_bytes`, before the tokenizer sees it);
- the work of one request (:meth:`RequestLimits.check_work`: sequences and tokens to
  generate, before anything is queued for the engine).

Every refusal is an :class:`~serving.openai_api.APIError` whose message names the limit and
the config key that raises it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from serving.openai_api import APIError

if TYPE_CHECKING:
    from serving.settings import LLMAppConfig

#: A token of real text is at most this many UTF-8 bytes (about 4 for English; CJK 3 per
#: character, at most a few characters per token). Only runs of whitespace or punctuation
#: merge into longer tokens, so a prompt over ``max_prompt_tokens * 8`` bytes is refused
#: without tokenizing it.
BYTES_PER_TOKEN = 8
#: JSON escaping (``\\uXXXX`` is 6 bytes for a character Python's ``json`` escapes), roles,
#: and message framing: the body may be this many times the prompt's text bytes.
JSON_OVERHEAD = 4
#: Room for everything else in a request (sampling parameters, stop strings, names).
BODY_SLACK_BYTES = 64 * 1024


def default_body_bytes(context_tokens: int) -> int:
    """The default HTTP body limit of a model with ``context_tokens`` of context.

    ``context × 8 bytes per token × 4 (JSON escaping and framing) + 64 KiB``: a chat that
    fills the whole context always fits (320 KiB for an 8192-token context). A completions
    request carrying a *list* of long prompts may not: split it, or raise
    ``llm.max_body_bytes``.
    """
    return context_tokens * BYTES_PER_TOKEN * JSON_OVERHEAD + BODY_SLACK_BYTES


def check_prompt_bytes(n_bytes: int, max_prompt_tokens: int, param: str) -> None:
    """Refuse a prompt that cannot fit ``max_prompt_tokens`` before tokenizing it.

    Raises:
        APIError: 400 ``context_length_exceeded`` when ``n_bytes`` exceeds
            ``max_prompt_tokens * BYTES_PER_TOKEN``.
    """
    limit = max_prompt_tokens * BYTES_PER_TOKEN
    if n_bytes > limit:
        raise APIError(400, f"the prompt is {n_bytes} bytes; this server accepts at most "
                       f"{max_prompt_tokens} tokens (at most {limit} bytes). Shorten it.",
                       param=param, code="context_length_exceeded")


@dataclass(frozen=True)
class RequestLimits:
    """Bounds on one request (Serve's ``user_config`` of the ``llm`` deployment).

    Attributes:
        max_sequences: prompts × ``n`` of one request (``llm.max_sequences_per_request``).
        max_tokens: ``max_tokens`` × sequences of one request (``llm.max_tokens_per_request``).
        max_body_bytes: HTTP body limit (``llm.max_body_bytes``); ``None``: derived from the
            model's context by :func:`default_body_bytes`.
    """

    max_sequences: int = 64
    max_tokens: int = 64 * 512
    max_body_bytes: int | None = None

    @classmethod
    def of(cls, config: LLMAppConfig) -> RequestLimits:
        """The limits an ``llm`` app config sets."""
        return cls(max_sequences=config.max_sequences_per_request,
                   max_tokens=config.max_tokens_per_request, max_body_bytes=config.max_body_bytes)

    def body_bytes(self, context_tokens: int) -> int:
        """The body limit for a model with ``context_tokens`` of context."""
        return self.max_body_bytes or default_body_bytes(context_tokens)

    def as_user_config(self) -> dict[str, int | None]:
        """A JSON-serializable dict that :class:`RequestLimits` is rebuilt from."""
        return asdict(self)

    def check_work(self, prompts: int, n: int, max_tokens: int) -> None:
        """Refuse a request that asks for more sequences or tokens than one request may.

        Args:
            prompts: prompts in the request (1 for a chat).
            n: choices per prompt.
            max_tokens: tokens to generate per choice.

        Raises:
            APIError: 400 naming the limit and its config key.
        """
        sequences = prompts * n
        if sequences > self.max_sequences:
            raise APIError(400, f"this request asks for {sequences} sequences ({prompts} prompts "
                           f"× n={n}); this server generates at most {self.max_sequences} per "
                           "request (`llm.max_sequences_per_request`). Split it into smaller "
                           "requests.", param="n", code="too_many_sequences")
        total = sequences * max_tokens
        if total > self.max_tokens:
            raise APIError(400, f"this request may generate {total} tokens ({sequences} sequences "
                           f"× max_tokens={max_tokens}); this server allows at most "
                           f"{self.max_tokens} per request (`llm.max_tokens_per_request`). "
                           "Reduce `max_tokens` or `n`, or split the request.",
                           param="max_tokens", code="too_many_tokens")
