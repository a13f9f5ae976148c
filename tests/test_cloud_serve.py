"""`cabin serve --route auto`: the local API routes chat answers like an Auto conversation (off by default)."""

from __future__ import annotations

import json

import pytest

from engine.cli import build_parser
from engine.cli.serve import routed
from engine.cloud.keys import set_key
from engine.cloud.provider import provider_from
from engine.settings.file import Settings
from engine.server import ServerConfig
from tests.conftest import LiveServer

HARD = ("First, analyse our deployment and list its trade-offs. Then compare step by step:\n"
        "1. Kubernetes\n2. A single VM\n3. Serverless\nFinally, design a migration plan and explain why.")


@pytest.fixture
def routed_server(llama_engine, cabin_data, fake_cloud, memory_keyring, cloud_reachable):
    cabin_data.mkdir(exist_ok=True)
    settings = Settings(cabin_data / "settings.json")
    settings.update({"cloud_base_url": f"{fake_cloud.url}/v1", "cloud_model": "fake-gpt"})
    set_key(provider_from(settings.values), "sk-test")
    server = LiveServer(routed(llama_engine), ServerConfig(port=0))
    yield server
    server.close()


def ask(server: LiveServer, text: str, **options):
    """A chat request through the official OpenAI client, to the model the server has loaded."""
    messages = [{"role": "user", "content": text}]
    return server.openai().chat.completions.create(model=server.engine.model_info.name, messages=messages, **options)


def test_routing_is_off_unless_asked() -> None:
    def parsed(*argv: str):
        return build_parser(argv).parse_args(argv)

    assert parsed("serve", "--model", "m").route == "local"
    assert parsed("serve", "--model", "m", "--route", "auto").route == "auto"


def test_a_hard_request_to_the_local_api_is_answered_by_the_cloud(routed_server, fake_cloud) -> None:
    stream = ask(routed_server, HARD, stream=True, max_tokens=8)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "Paris is the capital." and fake_cloud.requests[0].body["messages"][0]["content"] == HARD


def test_a_simple_request_stays_local(routed_server, fake_cloud) -> None:
    answer = ask(routed_server, "Hi", max_tokens=4)
    assert answer.usage.completion_tokens == 4 and fake_cloud.requests == []


def test_offline_settings_keep_the_routed_server_local(routed_server, fake_cloud, cabin_data) -> None:
    Settings(cabin_data / "settings.json").set("offline", True)
    ask(routed_server, HARD, max_tokens=4)
    assert fake_cloud.requests == [] and json.loads((cabin_data / "settings.json").read_text())["routing"]["offline"]
