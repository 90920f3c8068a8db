"""The llamacpp engine refuses what llama.cpp does not offer here, naming the engine that has
it (its generation contract is tested with the hf engine's in ``test_engine.py``)."""

import pytest

from serving.openai_api import APIError, ChatCompletionRequest

pytestmark = pytest.mark.slow


def test_logprobs_are_refused_naming_the_engine_that_has_them(llamacpp_engine):
    from serving.llm_server import LLMServer

    server = LLMServer(llamacpp_engine, "smollm2-135m-instruct")
    body = ChatCompletionRequest(model="smollm2-135m-instruct", logprobs=True,
                                 messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(APIError) as err:
        server.prepare_chat(body)
    assert err.value.status == 400 and "llm.engine=hf" in err.value.message


def test_llama_threads_leave_one_core_free():
    from serving.engines.llamacpp import llama_threads

    assert llama_threads(2, cores=2) == 1 and llama_threads(1, cores=1) == 1
    assert llama_threads(16, cores=16) == 15 and llama_threads(4, cores=16) == 4
