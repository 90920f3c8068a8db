"""lm-eval's ``local-chat-completions`` model against the ``llm`` API: the OpenAI-compatible
endpoint is a drop-in for lm-eval's API models (``lm-eval[api]``).

A tiny generative task from a local JSONL (no hub), read through
``TaskManager(include_path=...)`` as compress's lm-eval tasks are. Fast: the app's routes over
the fake engine behind a real HTTP server in a thread. Slow: the session's Serve app.
"""

import json
import threading
import time

import pytest

from tests.conftest import TEST_API_KEY, free_port

pytest.importorskip("tenacity", reason="lm-eval's API models need `pip install 'lm-eval[api]'`")
MODEL = "smollm2-135m-instruct"
TASK = "rayopt_serving_sums"
SUMS = [("What is 2+3?", "5"), ("What is 1+1?", "2"), ("What is 4+4?", "8"), ("What is 10+5?", "15")]
TASK_YAML = """\
task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
output_type: generate_until
test_split: test
doc_to_text: "{{{{question}}}}"
doc_to_target: "{{{{answer}}}}"
generation_kwargs:
  until: ["\\n\\n"]
  max_gen_toks: 16
  do_sample: false
  temperature: 0.0
filter_list:
  - name: last-number
    filter:
      - function: regex
        regex_pattern: "(-?[0-9]+)"
        group_select: -1
      - function: take_first
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1.0
"""


def lm_eval_chat(base_url: str, model: str, tmp_path) -> dict:
    """lm-eval's results and samples of :data:`TASK` through ``local-chat-completions``."""
    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    data = tmp_path / "sums.jsonl"
    data.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in SUMS))
    (tmp_path / f"{TASK}.yaml").write_text(TASK_YAML.format(task=TASK, data=json.dumps(str(data))))
    out = simple_evaluate(
        model="local-chat-completions",
        model_args={"model": model, "base_url": f"{base_url}/v1/chat/completions",
                    "num_concurrent": 2, "max_retries": 2, "tokenized_requests": False},
        tasks=[TASK],
        task_manager=TaskManager(include_path=str(tmp_path), include_defaults=False),
        apply_chat_template=True,
        limit=len(SUMS),
        log_samples=True,
        bootstrap_iters=0,
    )
    answers = [s["resps"][0][0] for s in out["samples"][TASK]]
    return {"accuracy": out["results"][TASK]["exact_match,last-number"], "answers": answers}


@pytest.fixture
def fake_endpoint(monkeypatch):
    """The llm app's guards and chat route over :class:`~serving.fakes.FakeEngine`, served
    by uvicorn in a thread, with an API key."""
    import uvicorn
    from fastapi import FastAPI

    from serving.api_key import KeyDigest
    from serving.fakes import FakeEngine
    from serving.http_guard import install_http_guards
    from serving.llm_server import LLMServer
    from serving.openai_api import ChatCompletionRequest, install_error_handlers

    app = FastAPI()
    install_error_handlers(app)
    install_http_guards(app, max_body_bytes=1 << 20, setting="llm.max_body_bytes")
    app.state.api_key = KeyDigest.of(TEST_API_KEY)  # what the deployment's `reconfigure` sets
    llm = LLMServer(FakeEngine(max_model_len=4096), "fake")

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest) -> dict:
        return llm.chat_response(body, llm.engine.generate([llm.prepare_chat(body)])[0])

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the fake endpoint did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_lm_eval_talks_to_the_llm_api(fake_endpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_API_KEY)  # lm-eval sends it as `Bearer`
    out = lm_eval_chat(fake_endpoint, "fake", tmp_path)
    assert out["answers"] == [q for q, _ in SUMS]  # the fake engine echoes the prompt
    assert out["accuracy"] == 0.0  # "What is 10+5?" ends in 5, not 15


@pytest.mark.slow
def test_lm_eval_scores_the_served_model(serving_stack, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", TEST_API_KEY)
    out = lm_eval_chat(serving_stack.base_url, MODEL, tmp_path)
    assert len(out["answers"]) == len(SUMS) and all(a.strip() for a in out["answers"])
    assert 0.25 <= out["accuracy"] <= 1.0  # the model gets 2+3 right (test_serve_apps), at least
