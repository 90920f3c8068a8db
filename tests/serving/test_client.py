"""``serving.client`` against the real Serve app (cache, ledger, budget) and a dead endpoint."""

import pytest

from serving.client import EmbedClient, EndpointUnavailable, LLMClient, RequestRejected
from serving.ledger import BudgetExceeded
from serving.settings import ClientConfig
from tests.conftest import free_port

pytestmark = pytest.mark.slow
Q = [{"role": "user", "content": "What is 6 times 7?"}]


@pytest.fixture
def client_config(tmp_path):
    return ClientConfig(cache_path=str(tmp_path / "responses.sqlite"))


def test_cache_answers_repeats_for_free(serving_stack, client_config):
    client = LLMClient(client_config)
    first = client.chat(Q, max_tokens=8, temperature=0)
    again = LLMClient(client_config).chat(Q, max_tokens=8, temperature=0)  # another client, same file
    assert (first.cached, again.cached) == (False, True) and again.text == first.text
    assert client.ledger.usage.calls == 1 and client.ledger.usage.completion_tokens == first.completion_tokens
    unseeded = [client.chat(Q, max_tokens=4, temperature=0.8) for _ in range(2)]
    assert not any(c.cached for c in unseeded)  # unreproducible calls are never cached
    seeded = [client.chat(Q, max_tokens=4, temperature=0.8, seed=5) for _ in range(2)]
    assert [c.cached for c in seeded] == [False, True]


def test_chat_many_keeps_order_and_budget_stops(serving_stack, client_config):
    client = LLMClient(client_config)
    convs = [[{"role": "user", "content": f"Name {i} animals."}] for i in range(1, 5)]
    outs = client.chat_many(convs, max_tokens=10, temperature=0)
    one_by_one = LLMClient(ClientConfig(cache="off"))
    assert [o.text for o in outs] == [one_by_one.chat(c, max_tokens=10, temperature=0).text for c in convs]
    assert len({o.text for o in outs}) == 4
    capped = LLMClient(ClientConfig(cache="off", max_calls=2))
    capped.chat(Q, max_tokens=2, temperature=0)
    capped.chat(Q, max_tokens=2, temperature=0)
    with pytest.raises(BudgetExceeded):
        capped.chat(Q, max_tokens=2, temperature=0)
    assert capped.ledger.usage.calls == 2


def test_rejected_request_names_the_problem(serving_stack, client_config):
    # past the 8192-token context but within the per-request work limit (32768 tokens)
    with pytest.raises(RequestRejected, match="maximum context length"):
        LLMClient(client_config).chat(Q, max_tokens=9_000, temperature=0)
    with pytest.raises(RequestRejected, match="max_tokens_per_request"):
        LLMClient(client_config).chat(Q, max_tokens=100_000, temperature=0)


def test_dead_endpoint_is_a_clear_error_after_bounded_retries(client_config):
    client_config.max_retries = 1
    client = LLMClient(client_config, base_url=f"http://127.0.0.1:{free_port()}/v1", model="m")
    with pytest.raises(EndpointUnavailable, match="python -m serving up"):
        client.chat(Q, max_tokens=2, temperature=0)
    assert client.ledger.usage.calls == 0


def test_embed_client_encodes_caches_and_decodes(serving_stack, client_config):
    from tests.conftest import FAKE_DECODER_BANK

    embed = EmbedClient(client_config)
    vectors = embed.encode(FAKE_DECODER_BANK)
    assert embed.dim == 384 and len(vectors) == 4
    assert EmbedClient(client_config).encode(FAKE_DECODER_BANK[:1]) == vectors[:1]
    assert embed.decode(vectors[1:3]) == FAKE_DECODER_BANK[1:3]
