"""SONAR text encoder/decoder (Meta's sonar-space), for GPU clusters.

SONAR's decoder turns a 1024-d sentence embedding back into text, which is what ecoflow's
embedding-space optimization needs at scale. fairseq2 pins an older torch than rayopt, so
the ``embed`` deployment runs SONAR in its own Ray ``runtime_env``
(:data:`SONAR_RUNTIME_ENV`); weights download from Meta at first use and are CC-BY-NC.
The pipelines are injectable so the wrappers are tested with a fake pipeline here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

ENCODER_CARD = "text_sonar_basic_encoder"
DECODER_CARD = "text_sonar_basic_decoder"
SONAR_DIM = 1024

# Packages of the SONAR replica's isolated environment (`pip install rayopt[sonar]` lists
# the same ones); fairseq2 brings the torch build it needs.
SONAR_RUNTIME_ENV: dict[str, Any] = {"pip": ["sonar-space>=0.5", "fairseq2>=0.8"]}


def _device(device: str | None):
    import torch

    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


class SonarEncoder:
    """Text → 1024-d SONAR embeddings.

    Args:
        lang: FLORES-200 language code of the input texts.
        device: torch device (default: cuda if available).
        pipeline: a ``TextToEmbeddingModelPipeline``-like object (tests pass a fake).
    """

    dim = SONAR_DIM

    def __init__(self, lang: str = "eng_Latn", device: str | None = None, pipeline: Any = None):
        if pipeline is None:
            from sonar.inference_pipelines.text import TextToEmbeddingModelPipeline

            pipeline = TextToEmbeddingModelPipeline(encoder=ENCODER_CARD, tokenizer=ENCODER_CARD,
                                                    device=_device(device))
        self.pipeline, self.lang = pipeline, lang

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        return self.pipeline.predict(list(texts), source_lang=self.lang).cpu().tolist()


class SonarDecoder:
    """1024-d SONAR embeddings → text.

    Args:
        lang: FLORES-200 code of the output language.
        max_seq_len: longest decoded text in tokens.
        device: torch device.
        pipeline: an ``EmbeddingToTextModelPipeline``-like object (tests pass a fake).
    """

    def __init__(self, lang: str = "eng_Latn", max_seq_len: int = 256, device: str | None = None,
                 pipeline: Any = None, encoder: Any = None):
        if pipeline is None:
            from sonar.inference_pipelines.text import EmbeddingToTextModelPipeline

            pipeline = EmbeddingToTextModelPipeline(decoder=DECODER_CARD, tokenizer=ENCODER_CARD,
                                                    device=_device(device))
        self.pipeline, self.lang, self.max_seq_len = pipeline, lang, max_seq_len

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]:
        import torch

        batch = torch.tensor([list(v) for v in vectors], dtype=torch.float32)
        if batch.ndim != 2 or batch.shape[1] != SONAR_DIM:
            raise ValueError(f"SONAR decodes {SONAR_DIM}-d vectors, got shape {tuple(batch.shape)}.")
        return list(self.pipeline.predict(batch, target_lang=options.get("lang", self.lang),
                                          max_seq_len=int(options.get("max_seq_len", self.max_seq_len))))
