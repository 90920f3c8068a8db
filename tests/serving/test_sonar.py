"""SONAR wrappers with a fake pipeline (sonar-space needs its own environment and Meta's weights)."""

import pytest
import torch

from serving.encoders import make_decoder
from serving.sonar import SONAR_DIM, SonarDecoder, SonarEncoder


class FakeSonarPipeline:
    """Records calls; encodes text length, decodes the first coordinate."""

    def __init__(self):
        self.calls = []

    def predict(self, inputs, **kwargs):
        self.calls.append(kwargs)
        if isinstance(inputs, torch.Tensor):
            return [f"text {int(row[0])}" for row in inputs]
        return torch.tensor([[float(len(t))] * SONAR_DIM for t in inputs])


def test_encoder_passes_language_and_returns_rows():
    pipe = FakeSonarPipeline()
    vectors = SonarEncoder(lang="fra_Latn", pipeline=pipe).encode(["abc", "de"])
    assert [v[0] for v in vectors] == [3.0, 2.0] and len(vectors[0]) == SONAR_DIM
    assert pipe.calls == [{"source_lang": "fra_Latn"}]


def test_decoder_options_and_shape_check():
    pipe = FakeSonarPipeline()
    dec = SonarDecoder(pipeline=pipe, max_seq_len=64)
    assert dec.decode([[5.0] * SONAR_DIM], max_seq_len=32) == ["text 5"]
    assert pipe.calls == [{"target_lang": "eng_Latn", "max_seq_len": 32}]
    with pytest.raises(ValueError, match="1024-d"):
        dec.decode([[1.0, 2.0]])


def test_decoder_factory_names():
    assert make_decoder("none", encoder=None) is None
    with pytest.raises(ValueError, match="unknown decoder"):
        make_decoder("bogus", encoder=None)
