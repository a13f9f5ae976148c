"""Embeddings through the local API with the real clients: OpenAI's /v1/embeddings, Ollama's /api/embed and
/api/embeddings, from the tiny random sentence encoder in the store; a chat model asked for embeddings is a 400."""

from __future__ import annotations

import base64
import http.client
import json
import struct
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import ollama
import openai
import pytest

from engine.models import local
from tests.conftest import LiveServer
from tests.embedding_factory import reference_embeddings

ENCODER = "tiny-bert"
TEXTS = ["the cat sat on the mat", "hello world"]


@pytest.fixture
def server(serve: Callable[..., LiveServer], cabin_data: Path, empty_hf_cache: Path, tiny_encoder: Path) -> LiveServer:
    local.add_folder(tiny_encoder)
    return serve()


@pytest.fixture
def client(server: LiveServer) -> openai.OpenAI:
    return server.openai()


@pytest.fixture
def ollama_client(server: LiveServer) -> ollama.Client:
    return server.ollama()


def test_openai_embeddings_are_the_encoders_vectors_in_order(client: openai.OpenAI, tiny_encoder: Path) -> None:
    response = client.embeddings.create(model=ENCODER, input=TEXTS, encoding_format="float")
    assert [item.index for item in response.data] == [0, 1] and response.model == ENCODER
    got = [item.embedding for item in response.data]
    np.testing.assert_allclose(got, reference_embeddings(tiny_encoder, TEXTS), atol=1e-5)


def test_the_openai_clients_default_base64_request_decodes_to_the_same_vectors(
    client: openai.OpenAI, tiny_encoder: Path
) -> None:
    got = [item.embedding for item in client.embeddings.create(model=ENCODER, input=TEXTS).data]
    np.testing.assert_allclose(got, reference_embeddings(tiny_encoder, TEXTS), atol=1e-5)


def test_openai_embeddings_count_the_tokens_read(client: openai.OpenAI) -> None:
    usage = client.embeddings.create(model=ENCODER, input="hello world", encoding_format="float").usage
    assert (usage.prompt_tokens, usage.total_tokens) == (4, 4)


def test_base64_encoding_carries_the_same_float32_vector(server: LiveServer, client: openai.OpenAI) -> None:
    floats = client.embeddings.create(model=ENCODER, input="hello world", encoding_format="float").data[0].embedding
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", "/v1/embeddings", json.dumps({"model": ENCODER, "input": "hello world",
                                                              "encoding_format": "base64"}))  # fmt: skip
    encoded = json.loads(connection.getresponse().read())["data"][0]["embedding"]
    raw = base64.b64decode(encoded)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == pytest.approx(floats, abs=1e-7)


def test_ollama_embed_gives_one_vector_per_input(ollama_client: ollama.Client, tiny_encoder: Path) -> None:
    response = ollama_client.embed(model=ENCODER, input=TEXTS)
    np.testing.assert_allclose(response.embeddings, reference_embeddings(tiny_encoder, TEXTS), atol=1e-5)


def test_ollamas_older_embeddings_endpoint_embeds_its_prompt(ollama_client: ollama.Client, tiny_encoder: Path) -> None:
    response = ollama_client.embeddings(model=f"{ENCODER}:latest", prompt="hello world")
    np.testing.assert_allclose(response.embedding, reference_embeddings(tiny_encoder, ["hello world"])[0], atol=1e-5)


def test_the_model_lists_name_the_embedding_model_after_the_chat_model(
    client: openai.OpenAI, ollama_client: ollama.Client
) -> None:
    assert [model.id for model in client.models.list()] == ["tiny-llama", ENCODER]
    assert [model.model for model in ollama_client.list().models] == ["tiny-llama", ENCODER]


def test_a_chat_model_asked_for_embeddings_is_a_400_naming_an_embedding_model(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        client.embeddings.create(model="tiny-llama", input="hello")
    assert "tiny-llama is a chat model" in error.value.message and "all-MiniLM-L6-v2" in error.value.message


def test_an_unknown_embedding_model_is_a_404(ollama_client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as error:
        ollama_client.embed(model="no-such-encoder", input="hello")
    assert error.value.status_code == 404


def test_embedding_leaves_the_chat_model_loaded(client: openai.OpenAI, server: LiveServer) -> None:
    client.embeddings.create(model=ENCODER, input="hello", encoding_format="float")
    assert server.engine.model_info.name == "tiny-llama"
