"""The router: who answers (Local only, Auto, Cloud; private; offline), and how a routed answer streams, ends,
counts its cost and falls back to the local model when the cloud fails. The local model is a real (tiny) one."""

from __future__ import annotations

import dataclasses

import pytest

from engine.cloud.keys import set_key
from engine.cloud.provider import provider_from
from engine.cloud.router import Request, Router
from engine.generation import Finished, SamplingSettings, Token
from engine.messages import system, user
from engine.settings.schema import DEFAULTS

SIMPLE = [system("You are a helpful AI assistant."), user("What is the capital of France?")]
HARD = [user("First, analyse our deployment and list its trade-offs. Then compare step by step:\n"
             "1. Kubernetes\n2. A single VM\n3. Serverless\nFinally, design a migration plan and explain why.")]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=6)


def preferences(cloud, kind: str = "openai", **changes):
    base = f"{cloud.url}/v1" if kind == "openai" else cloud.url
    values = dict(cloud_kind=kind, cloud_base_url=base, cloud_model=f"fake-{kind}", cloud_input_cost=3.0,
                  cloud_output_cost=15.0, cloud_timeout=5.0)
    return dataclasses.replace(DEFAULTS, **{**values, **changes})


@pytest.fixture
def router(llama_engine, fake_cloud, memory_keyring, cloud_reachable):
    """A router over a loaded local model and the fake provider, its key in the (in-memory) keychain."""
    values = {"now": preferences(fake_cloud)}
    set_key(provider_from(values["now"]), "sk-test")
    made = Router(llama_engine, lambda: values["now"])
    made.values = values  # type: ignore[attr-defined]
    return made


def answer(router: Router, messages=SIMPLE, mode="cloud", private=False):
    generation = router.answer(Request(list(messages), GREEDY, "c1"), mode, private)
    events = list(generation)
    return generation, events


def test_a_cloud_answer_streams_as_tokens_then_finishes_with_its_text(router) -> None:
    generation, events = answer(router)
    tokens = [e for e in events if isinstance(e, Token)]
    assert "".join(t.text for t in tokens) == "Paris is the capital." and len(tokens) == 4
    assert events[-1].text == "Paris is the capital." and events[-1].finish_reason == "stop"


def test_a_cloud_answer_carries_its_route_provider_model_tokens_and_cost(router, fake_cloud) -> None:
    generation, events = answer(router)
    assert generation.route.label.startswith("Cloud: chosen for this conversation, score ")
    usage = generation.usage
    assert (usage.provider, usage.model) == (f"OpenAI-compatible (127.0.0.1:{fake_cloud.port})", "fake-openai")
    assert (usage.input_tokens, usage.output_tokens) == (12, 4)
    assert usage.cost == pytest.approx((12 * 3 + 4 * 15) / 1e6)
    assert (events[-1].stats.prompt_tokens, events[-1].stats.generated_tokens) == (12, 4)


def test_anthropic_answers_the_same_way(router, fake_cloud) -> None:
    router.values["now"] = preferences(fake_cloud, "anthropic")
    set_key(provider_from(router.values["now"]), "sk-ant-test")
    generation, events = answer(router)
    assert events[-1].text == "Paris is the capital." and generation.usage.model == "fake-anthropic"
    assert fake_cloud.requests[-1].headers["x-api-key"] == "sk-ant-test"


def test_auto_sends_a_hard_request_out_and_keeps_a_simple_one_local(router, fake_cloud) -> None:
    hard, _ = answer(router, HARD, "auto")
    simple, events = answer(router, SIMPLE, "auto")
    assert hard.route.target == "cloud" and hard.route.label.startswith("Cloud: multi-step request, score 0.")
    assert simple.route.label == "Local: short simple request, score 0.01"
    assert simple.usage is None and len(fake_cloud.requests) == 1 and events[-1].finish_reason == "length"


def test_the_threshold_decides_in_auto(router, fake_cloud) -> None:
    router.values["now"] = preferences(fake_cloud, route_threshold=0.0)
    generation, _ = answer(router, SIMPLE, "auto")
    assert generation.route.target == "cloud"


def test_a_connection_dropped_mid_answer_falls_back_to_local_keeping_what_streamed(router, fake_cloud) -> None:
    fake_cloud.script.drop_after = 2
    generation, events = answer(router)
    finished = events[-1]
    assert finished.text.startswith("Paris is \n\n*(The cloud answer stopped here: The connection to 127.0.0.1:")
    assert "The local model answers below.)*\n\n" in finished.text
    local = finished.text.split("answers below.)*\n\n", 1)[1]
    assert finished.finish_reason == "length" and finished.stats.generated_tokens == 6 and local
    assert "".join(e.text for e in events if isinstance(e, Token)) == finished.text
    assert generation.route.label.startswith("Local: cloud failed (The connection to 127.0.0.1")
    assert generation.usage.output_tokens == 2


def test_an_http_error_before_any_word_lets_the_local_model_answer_with_the_reason_on_the_route(
    router, fake_cloud
) -> None:
    fake_cloud.script.status = 500
    generation, events = answer(router)
    assert "stopped here" not in events[-1].text and events[-1].stats.generated_tokens == 6
    assert "HTTP 500 (server error)" in generation.route.reason and generation.usage is None


def test_a_timeout_falls_back_to_local(router, fake_cloud) -> None:
    fake_cloud.script.stall = True
    router.values["now"] = preferences(fake_cloud, cloud_timeout=1.0)
    generation, events = answer(router)
    assert "did not answer within 1 s" in generation.route.reason and events[-1].finish_reason == "length"


def test_no_stored_key_means_local_with_the_reason(router, memory_keyring, fake_cloud) -> None:
    memory_keyring.entries.clear()
    generation, _ = answer(router)
    assert generation.route.reason.startswith("cloud failed (no API key stored for OpenAI-compatible")
    assert fake_cloud.requests == []


def test_stopping_a_cloud_answer_keeps_its_text_as_cancelled(router, fake_cloud) -> None:
    fake_cloud.script.hold_after = 1
    generation = router.answer(Request(list(SIMPLE), GREEDY, "c1"), "cloud", False)
    events = []
    for event in generation:
        events.append(event)
        if isinstance(event, Token):
            generation.stop()
            fake_cloud.release.set()
    assert events[-1].finish_reason == "cancelled" and events[-1].text == "Paris "


@pytest.mark.parametrize(("mode", "private"), [("local", False), ("auto", True), ("cloud", True)])
def test_a_local_only_or_private_conversation_opens_no_socket(router, socket_connects, mode, private) -> None:
    generation, events = answer(router, HARD, mode, private)
    assert generation.route.target == "local" and events[-1].stats.generated_tokens == 6
    assert socket_connects == []


def test_the_socket_watch_sees_a_cloud_answer_connect(router, socket_connects, fake_cloud) -> None:
    answer(router, HARD, "cloud")
    assert ("127.0.0.1", fake_cloud.port) in socket_connects


def test_offline_keeps_everything_local_without_a_socket(router, socket_connects, monkeypatch, fake_cloud) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    env, _ = answer(router, HARD, "cloud")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    router.values["now"] = preferences(fake_cloud, offline=True)
    switch, _ = answer(router, HARD, "cloud")
    assert env.route.label == switch.route.label == "Local: offline" and socket_connects == []


def test_a_request_with_tools_stays_local(router, fake_cloud) -> None:
    tool = {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
    generation = router.answer(Request(list(SIMPLE), GREEDY, None, [tool]), "cloud", False)
    assert isinstance(generation.result(30), Finished) and generation.route.reason == "the request offers tools"
    assert fake_cloud.requests == []


def test_the_preview_says_who_would_answer_without_sending(router, socket_connects) -> None:
    assert router.preview("local", False, HARD).label == "Local"
    assert router.preview("auto", False, HARD).target == "cloud"
    assert router.preview("auto", True, HARD).label == "Local: private conversation"
    assert socket_connects == []
