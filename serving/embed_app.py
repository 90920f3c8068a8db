"""The ``embed`` Serve app: ``POST /v1/embeddings`` (OpenAI format) and ``POST /v1/decode``.

Mounted at route prefix ``/embed``, so the OpenAI client's base URL is
``http://HOST:PORT/embed/v1``. Concurrent embedding requests are batched into one encoder
call with ``@serve.batch``.
"""


import asyncio
import base64
import logging
import struct

from fastapi import FastAPI
from ray import serve
from ray.serve import Application

from serving.api_key import USER_CONFIG_FIELD, KeyDigest, digest_user_config
from serving.http_guard import install_http_guards
from serving.openai_api import APIError, DecodeRequest, EmbeddingRequest, install_error_handlers
from serving.settings import EmbedAppConfig

log = logging.getLogger("ray.serve")

MAX_INPUTS = 2048

app = FastAPI(title="rayopt embed")
install_error_handlers(app)
install_http_guards(app, max_body_bytes=EmbedAppConfig.max_body_bytes, setting="embed.max_body_bytes")


def _b64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


@serve.deployment(name="EmbedServer")
@serve.ingress(app)
class EmbedDeployment:
    """One replica holding the encoder (and the decoder, when configured)."""

    def __init__(self, config: EmbedAppConfig):
        from serving.cluster import pin_threads
        from serving.encoders import make_decoder, make_encoder

        pin_threads(config.num_cpus)
        self.name = config.encoder
        self.encoder = make_encoder(config.encoder)
        self.decoder = make_decoder(config.decoder, self.encoder, config.decoder_kwargs)
        self.decoder_name = config.decoder
        self.encode_batch.set_max_batch_size(config.max_batch_size)
        self.encode_batch.set_batch_wait_timeout_s(config.batch_wait_timeout_s)

    def reconfigure(self, user_config: dict) -> None:
        """Serve calls this after ``__init__``: ``{"max_body_bytes": N, "api_key": digest or
        None}`` for the served app (see :mod:`serving.api_key`)."""
        self.app.state.max_body_bytes = int(user_config["max_body_bytes"])
        self.app.state.api_key = KeyDigest.from_user_config(user_config.get(USER_CONFIG_FIELD))

    @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.01)
    async def encode_batch(self, batches: list[list[str]]) -> list[list[list[float]]]:
        flat = [t for texts in batches for t in texts]
        vectors = await asyncio.get_running_loop().run_in_executor(None, self.encoder.encode, flat)
        out, start = [], 0
        for texts in batches:
            out.append(vectors[start : start + len(texts)])
            start += len(texts)
        return out

    @app.post("/v1/embeddings")
    async def embeddings(self, body: EmbeddingRequest) -> dict:
        texts = body.input
        if len(texts) > MAX_INPUTS:
            raise APIError(400, f"at most {MAX_INPUTS} inputs per request, got {len(texts)}.", param="input")
        empty = [i for i, t in enumerate(texts) if not t.strip()]
        if empty:
            raise APIError(400, f"input[{empty[0]}] is empty.", param="input")
        if body.model not in (None, self.name):
            raise APIError(404, f"The model `{body.model}` does not exist; this server embeds with "
                           f"`{self.name}`.", param="model", code="model_not_found")
        vectors = await self.encode_batch(texts)
        fmt = _b64 if body.encoding_format == "base64" else list
        count = getattr(self.encoder, "count_tokens", None)
        tokens = sum(count(texts)) if count else 0
        return {"object": "list", "model": self.name, "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                "data": [{"object": "embedding", "index": i, "embedding": fmt(v)} for i, v in enumerate(vectors)]}

    @app.post("/v1/decode")
    async def decode(self, body: DecodeRequest) -> dict:
        if self.decoder is None:
            raise APIError(501, f"no decoder is configured for encoder `{self.name}`: deploy the embed "
                           "app with `embed.decoder=sonar` or `embed.decoder=package.module:factory`.",
                           type="not_implemented")
        bad = [i for i, v in enumerate(body.vectors) if len(v) != self.encoder.dim]
        if bad:
            raise APIError(400, f"vectors[{bad[0]}] has {len(body.vectors[bad[0]])} dimensions; the "
                           f"`{self.name}` space has {self.encoder.dim}.", param="vectors")
        texts = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.decoder.decode(body.vectors, **body.options))
        log.info("decoded %d vectors", len(texts))
        log.debug("decoded texts: %r", texts)
        return {"object": "list", "model": self.decoder_name,
                "data": [{"object": "decoded", "index": i, "text": t} for i, t in enumerate(texts)]}

    @app.get("/v1/models")
    async def models(self) -> dict:
        return {"object": "list", "data": [{"id": self.name, "object": "model", "owned_by": "rayopt",
                                            "dim": self.encoder.dim, "decoder": self.decoder_name}]}


def build_embed_app(config: EmbedAppConfig) -> Application:
    """The ``embed`` application; SONAR replicas get their own ``runtime_env``."""
    from serving.sonar import SONAR_RUNTIME_ENV

    actor = {"num_cpus": config.num_cpus, "num_gpus": config.num_gpus}
    if "sonar" in (config.encoder, config.decoder):
        actor["runtime_env"] = config.sonar_runtime_env or SONAR_RUNTIME_ENV
    user_config = {"max_body_bytes": config.max_body_bytes, USER_CONFIG_FIELD: digest_user_config()}
    return EmbedDeployment.options(max_ongoing_requests=max(64, config.max_batch_size),
                                   user_config=user_config,
                                   ray_actor_options=actor).bind(config)
