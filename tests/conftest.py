"""Session fixtures: one small local Ray cluster and one set of shared Serve apps.

Like Ray's own tests, every Ray-using test shares one cluster (``num_cpus=8`` logical CPUs
on 2 cores, see ARCHITECTURE), and every Serve-using test shares one deployment of the
``llm`` and ``embed`` apps on the embedded models, on a free port, with an API key.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

# Tests never need a model or data hub (the machine and CI have none).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

TEST_API_KEY = "rayopt-test-key"
# GSM8K for tests: $GSM8K_DIR (CI sets it), else ../shared/data/gsm8k beside the checkout.
GSM8K_DIR = os.environ.get("GSM8K_DIR") or str(Path(__file__).resolve().parents[2] / "shared/data/gsm8k")
# The other task data the same way: $INSTRUCTION_INDUCTION_DIR / $BBH_DIR, else beside the checkout.
_SHARED = Path(__file__).resolve().parents[2] / "shared/data"
INDUCTION_DIR = os.environ.get("INSTRUCTION_INDUCTION_DIR") or str(_SHARED / "instruction-induction")
BBH_DIR = os.environ.get("BBH_DIR") or str(_SHARED / "bbh")
SESSION_CPUS = 8  # logical CPUs of the test Ray: scheduling tokens; every worker pins its own threads
FAKE_DECODER_BANK = ["Let's think step by step.", "Answer with a single number.",
                     "Check your arithmetic twice.", "The weather is sunny today."]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def ray_session():
    """A fresh local Ray for the whole session (never a cluster already running here)."""
    import ray

    from serving.cluster import NAMESPACE, local_num_cpus

    os.environ["RAYOPT_API_KEY"] = TEST_API_KEY
    # The shared Serve apps hold 3 logical CPUs for the whole session; the Train/Tune tests
    # need theirs beside them (with 4, a Tune trial or a DDP worker waited forever).
    ray.init(address="local", num_cpus=max(SESSION_CPUS, local_num_cpus()), include_dashboard=False,
             namespace=NAMESPACE, log_to_driver=False)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="session")
def serve_port(ray_session) -> int:
    """The HTTP port of the session's one Serve proxy (every Serve-using test shares it)."""
    port = free_port()
    os.environ["RAYOPT_HTTP_PORT"] = str(port)
    return port


@pytest.fixture(scope="session")
def serving_stack(serve_port):
    """The shared ``llm`` + ``embed`` apps (embed with a fake nearest-text decoder)."""
    from serving.deploy import ensure_running
    from serving.settings import EmbedAppConfig, ServingConfig

    port = serve_port
    config = ServingConfig(port=port, embed=EmbedAppConfig(
        decoder="serving.fakes:FakeNearestDecoder", decoder_kwargs={"bank": FAKE_DECODER_BANK}))
    ensure_running(config)
    return config


@pytest.fixture(scope="session")
def smollm2_engine():
    """The embedded SmolLM2-135M-Instruct in an :class:`HFEngine` (converted once, fp32)."""
    import torch

    from serving.engines.hf import HFEngine
    from serving.models import resolve_model

    torch.set_num_threads(min(2, os.cpu_count() or 1))
    return HFEngine.load(resolve_model("smollm2-135m-instruct"))


@pytest.fixture(scope="session")
def llamacpp_engine():
    """The same model's GGUF (Q4_1) in a :class:`LlamaCppEngine` (skips without llama-cpp-python)."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed: `make install-llamacpp`")
    from serving.engines.llamacpp import LlamaCppEngine
    from serving.models import resolve_gguf, resolve_model

    model = "smollm2-135m-instruct"
    return LlamaCppEngine.load(resolve_model(model), resolve_gguf(model), threads=min(2, os.cpu_count() or 1))
