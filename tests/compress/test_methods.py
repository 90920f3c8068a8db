"""Compression functions on hand-made weights and a tiny random Llama (seconds, no real model)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

from compress.methods import CompressionSpec
from compress.methods.apply import compress_model, dir_size_mb
from compress.methods.layers import quantizable_linears
from compress.methods.prune import (
    input_norms,
    magnitude_prune_,
    nm_prune_,
    sparsity_of,
    wanda_prune_,
)
from compress.methods.rtn import fake_quantize, packed_bytes, rtn_quantize_


def tiny_llama(seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=49152,  # SmolLM2 tokenizer ids
                         hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True)
    return LlamaForCausalLM(config).eval()


def test_rtn_exact_on_hand_made_rows() -> None:
    """Range [0, 3] at 2 bits: scale 1, zero 0, so integers are exact and 0.5 rounds to 0
    (round half to even); the padded 5-column row's last group is [4] alone: exact too."""
    w = torch.tensor([[0.0, 0.5, 1.0, 3.0]])
    assert fake_quantize(w, 2, 4).tolist() == [[0.0, 0.0, 1.0, 3.0]]
    w5 = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0]])
    assert fake_quantize(w5, 2, 4).tolist() == [[0.0, 1.0, 2.0, 3.0, 4.0]]
    # Negative range [-3, 1] at 2 bits: scale 4/3, zero round(2.25) = 2; values snap to
    # multiples of 4/3 around 0 and 0 stays exactly 0.
    out = fake_quantize(torch.tensor([[-3.0, 0.0, 1.0, -1.0]]), 2, -1)
    assert out[0, 1] == 0.0
    assert out[0].tolist() == pytest.approx([-8 / 3, 0.0, 4 / 3, -4 / 3])


def test_rtn_error_shrinks_with_bits_and_keeps_zeros() -> None:
    torch.manual_seed(0)
    w = torch.randn(16, 64)
    w[:, ::3] = 0.0
    errors = [float((fake_quantize(w, b, 32) - w).abs().max()) for b in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2]
    assert (fake_quantize(w, 4, 32)[:, ::3] == 0).all()
    assert packed_bytes(64 * 16, 64, 4, 32) == 64 * 16 / 2 + 32 * 4
    with pytest.raises(ValueError, match="bits"):
        fake_quantize(w, 1, 32)


def test_rtn_on_model_touches_every_linear_but_the_head() -> None:
    model = tiny_llama()
    head = model.lm_head.weight.clone()
    n = rtn_quantize_(model, 3, 16)
    assert n == sum(m.weight.numel() for m in quantizable_linears(model).values())
    assert torch.equal(model.lm_head.weight, head)
    groups = model.model.layers[0].mlp.up_proj.weight.reshape(-1, 16)
    assert max(len(g.unique()) for g in groups) <= 8  # 3 bits: at most 8 levels per group


def test_magnitude_and_nm_pruning_exact_counts() -> None:
    model = tiny_llama()
    magnitude_prune_(model, 0.25)
    for layer in quantizable_linears(model).values():
        assert int((layer.weight == 0).sum()) == int(layer.weight.numel() * 0.25)
    model = tiny_llama()
    nm_prune_(model, 2, 4)
    assert sparsity_of(model) == 0.5
    for layer in quantizable_linears(model).values():
        groups = layer.weight.reshape(layer.weight.shape[0], -1, 4)
        assert ((groups == 0).sum(-1) == 2).all()
    with pytest.raises(ValueError, match="sparsity"):
        magnitude_prune_(model, 1.0)


def test_wanda_uses_activation_norms() -> None:
    """All weights equal: magnitude cannot choose, Wanda drops the inputs with the
    smallest activation norms (columns 0 and 1)."""
    layer = torch.nn.Linear(4, 2, bias=False)
    model = torch.nn.Sequential()
    model.add_module("proj", layer)
    with torch.no_grad():
        layer.weight.fill_(1.0)
    wanda_prune_(model, 0.5, {"proj": torch.tensor([1.0, 2.0, 3.0, 4.0])})
    assert layer.weight.tolist() == [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]


def test_input_norms_match_a_hand_computation() -> None:
    model = tiny_llama()
    ids = torch.randint(0, 49152, (2, 8))
    norms = input_norms(model, [ids])
    captured: dict[str, torch.Tensor] = {}

    def hook(_m: torch.nn.Module, args: tuple, _out: torch.Tensor) -> None:
        captured["x"] = args[0].detach().reshape(-1, args[0].shape[-1])

    handle = model.model.layers[1].mlp.down_proj.register_forward_hook(hook)
    with torch.no_grad():
        model(input_ids=ids)
    handle.remove()
    expected = captured["x"].norm(dim=0)
    assert torch.allclose(norms["model.layers.1.mlp.down_proj"], expected, rtol=1e-5)


@pytest.mark.parametrize("spec", [
    CompressionSpec("none"),
    CompressionSpec("rtn", bits=4, group_size=16, pruning="wanda", sparsity=0.3),
    CompressionSpec("bnb_int8", pruning="magnitude", sparsity=0.5),
    CompressionSpec("bnb_nf4", double_quant=True, pruning="nm_2_4"),
    CompressionSpec("bnb_fp4", double_quant=False),
])
def test_compress_model_saves_a_loadable_model(spec: CompressionSpec, tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from serving.models import resolve_model

    src = tmp_path / "tiny"
    tiny_llama().save_pretrained(src)
    AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct")).save_pretrained(src)
    texts = ["Question: 2 + 3?\nAnswer: 5 #### 5"] * 8
    info = compress_model(spec, str(src), tmp_path / "out", texts, "cpu", calib_seq_len=16)
    loaded = AutoModelForCausalLM.from_pretrained(tmp_path / "out")
    out = loaded(input_ids=torch.tensor([[1, 2, 3]])).logits
    assert torch.isfinite(out).all()
    expected = {"none": 0.0, "wanda": 0.3, "magnitude": 0.5, "nm_2_4": 0.5}[spec.pruning]
    assert info["sparsity_actual"] == pytest.approx(expected, abs=0.02)  # per-row floor
    if spec.method.startswith("bnb_"):
        assert dir_size_mb(tmp_path / "out") < dir_size_mb(src)
        assert loaded.config.quantization_config.quant_method == "bitsandbytes"
    if spec.method == "rtn":
        assert info["packed_mb"] < dir_size_mb(src)
