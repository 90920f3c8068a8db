"""``LLMServer`` on the fake engine: content parts, and requests refused before real work."""

import pytest

from serving.fakes import FakeEngine
from serving.limits import RequestLimits, check_prompt_bytes, default_body_bytes
from serving.llm_server import LLMServer
from serving.openai_api import APIError, ChatCompletionRequest, CompletionRequest

MODEL = "fake"


def server(context: int = 64, **limits) -> LLMServer:
    return LLMServer(FakeEngine(max_model_len=context), MODEL, default_max_tokens=8,
                     limits=RequestLimits(**limits))


def chat(**kw) -> ChatCompletionRequest:
    return ChatCompletionRequest(**{"model": MODEL, "messages": [{"role": "user", "content": "hi"}], **kw})


def refused(fn, *args) -> APIError:
    with pytest.raises(APIError) as err:
        fn(*args)
    assert err.value.status == 400
    return err.value


def test_chat_with_text_parts_and_a_null_assistant_turn():
    s = server()
    body = chat(messages=[
        {"role": "system", "content": [{"type": "text", "text": "Be "}, {"type": "text", "text": "brief."}]},
        {"role": "assistant", "content": None},
        {"role": "user", "content": "ok"},
    ], max_tokens=40)
    request = s.prepare_chat(body)
    assert "".join(map(chr, request.prompt_ids)) == "Be brief.\n\nok"  # the fake joins contents by "\n"
    response = s.chat_response(body, s.engine.generate([request])[0])
    assert response["choices"][0]["message"] == {"role": "assistant", "content": "Be brief.\n\nok"}
    assert response["usage"] == {"prompt_tokens": 13, "completion_tokens": 13, "total_tokens": 26}


def test_an_oversized_prompt_is_refused_by_its_bytes_before_tokenizing():
    s = server(context=64)  # max_prompt_tokens 63: at most 63 * 8 = 504 bytes
    assert s.max_prompt_tokens == 63
    error = refused(s.prepare_chat, chat(messages=[{"role": "user", "content": "é" * 253}]))  # 506 bytes
    assert error.code == "context_length_exceeded" and error.param == "messages"
    assert "the prompt is 506 bytes; this server accepts at most 63 tokens (at most 504 bytes)" in error.message
    error = refused(s.prepare_completion, CompletionRequest(model=MODEL, prompt=["ok", "x" * 505]))
    assert error.param == "prompt"
    assert s.engine.tokenized == 0
    # Under the byte bound the tokenizer decides: 100 one-byte tokens > 63.
    assert "has 100 tokens" in refused(s.prepare_chat, chat(messages=[{"role": "user", "content": "x" * 100}])).message
    assert s.engine.tokenized == 1


def test_sequences_per_request_are_bounded():
    s = server(context=4096, max_sequences=8, max_tokens=10_000)
    ok = s.prepare_completion(CompletionRequest(model=MODEL, prompt=["a", "b"], n=4, max_tokens=1))
    assert [r.params.n for r in ok] == [4, 4]
    error = refused(s.prepare_completion, CompletionRequest(model=MODEL, prompt=["a", "b", "c"], n=3))
    assert error.code == "too_many_sequences"
    assert "9 sequences (3 prompts × n=3)" in error.message and "`llm.max_sequences_per_request`" in error.message
    assert "at most 8" in refused(s.prepare_chat, chat(n=9)).message


def test_tokens_per_request_are_bounded():
    s = server(context=4096, max_sequences=64, max_tokens=100)
    s.prepare_chat(chat(n=4, max_tokens=25))  # exactly 100
    assert s.engine.tokenized == 1
    error = refused(s.prepare_chat, chat(n=4, max_tokens=26))
    assert error.code == "too_many_tokens" and error.param == "max_tokens"
    assert "104 tokens (4 sequences × max_tokens=26)" in error.message
    assert "`llm.max_tokens_per_request`" in error.message
    completions = CompletionRequest(model=MODEL, prompt=["a"] * 10, max_tokens=11)
    assert "110 tokens" in refused(s.prepare_completion, completions).message
    assert s.engine.tokenized == 1  # the refused ones were never tokenized


def test_limits_defaults_and_the_body_bound():
    limits = RequestLimits()
    assert (limits.max_sequences, limits.max_tokens) == (64, 32768)
    assert default_body_bytes(8192) == 8192 * 32 + 65536 == 327_680
    assert server(context=8192).max_body_bytes == 327_680
    assert server(context=8192, max_body_bytes=5000).max_body_bytes == 5000
    assert RequestLimits(**limits.as_user_config()) == limits
    check_prompt_bytes(80, 10, "prompt")  # exactly at the bound
    with pytest.raises(APIError):
        check_prompt_bytes(81, 10, "prompt")


def test_completion_max_tokens_null_is_the_default_16():
    s = server(context=64)
    (request,) = s.prepare_completion(CompletionRequest(model=MODEL, prompt="abc", max_tokens=None))
    assert request.params.max_tokens == 16
