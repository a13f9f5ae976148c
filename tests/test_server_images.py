"""Images over the local API against a live server: OpenAI `image_url` parts and Ollama `images` answered by a vision
model exactly as the engine answers them, and refused with a 400 by a text-only model or from the network."""

from __future__ import annotations

import base64
import http.client
import json
from urllib.parse import urlsplit

from engine.generation import SamplingSettings
from engine.messages import Image, Message, Text
from tests.conftest import LiveServer
from tests.vision_factory import png_bytes

RED = png_bytes((200, 30, 30))
RED_B64 = base64.b64encode(RED).decode("ascii")


def post(server: LiveServer, path: str, body: dict) -> tuple[int, dict]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", path, json.dumps(body))
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def engine_answer(server: LiveServer) -> str:
    message = Message("user", (Text("What is this?"), Image(data=RED_B64)))
    return server.engine.chat([message], SamplingSettings(temperature=0, max_tokens=8), "ref").result().text


def openai_body(model: str, url: str) -> dict:
    content = [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    return {"model": model, "messages": [{"role": "user", "content": content}], "temperature": 0, "max_tokens": 8}


def test_openai_image_url_data_uri_is_answered_as_the_engine_answers(vision_server: LiveServer) -> None:
    status, body = post(vision_server, "/v1/chat/completions", openai_body("tiny-llava", f"data:image/png;base64,{RED_B64}"))
    assert status == 200
    assert body["choices"][0]["message"]["content"] == engine_answer(vision_server)


def test_openai_image_url_file_url_reads_the_local_file(vision_server: LiveServer, tmp_path) -> None:
    picture = tmp_path / "red.png"
    picture.write_bytes(RED)
    status, body = post(vision_server, "/v1/chat/completions", openai_body("tiny-llava", picture.as_uri()))
    assert status == 200
    assert body["choices"][0]["message"]["content"] == engine_answer(vision_server)


def test_openai_image_url_on_the_network_is_a_400(vision_server: LiveServer) -> None:
    status, body = post(vision_server, "/v1/chat/completions", openai_body("tiny-llava", "https://example.com/a.png"))
    assert status == 400 and "not fetched" in body["error"]["message"]


def test_ollama_images_are_answered_as_the_engine_answers(vision_server: LiveServer) -> None:
    message = {"role": "user", "content": "What is this?", "images": [RED_B64]}
    status, body = post(vision_server, "/api/chat", {"model": "tiny-llava", "messages": [message], "stream": False,
                                                     "options": {"temperature": 0, "num_predict": 8, "repeat_penalty": 1.0}})
    assert status == 200
    assert body["message"]["content"] == engine_answer(vision_server)


def test_ollama_generate_takes_images_too(vision_server: LiveServer) -> None:
    status, body = post(vision_server, "/api/generate", {"model": "tiny-llava", "prompt": "What is this?",
                                                         "images": [RED_B64], "stream": False,
                                                         "options": {"temperature": 0, "num_predict": 8, "repeat_penalty": 1.0}})
    assert status == 200
    assert body["response"] == engine_answer(vision_server)


def test_a_text_only_model_refuses_an_openai_image_with_a_400(api_server: LiveServer) -> None:
    status, body = post(api_server, "/v1/chat/completions", openai_body("tiny-llama", f"data:image/png;base64,{RED_B64}"))
    assert status == 400
    assert body["error"]["message"] == "Image input is not supported: tiny-llama reads text only (load a vision model)."


def test_a_text_only_model_refuses_ollama_images_with_a_400(api_server: LiveServer) -> None:
    message = {"role": "user", "content": "What is this?", "images": [RED_B64]}
    status, body = post(api_server, "/api/chat", {"model": "tiny-llama", "messages": [message], "stream": False})
    assert status == 400 and "reads text only" in body["error"]


def test_ollama_show_lists_vision_among_a_vision_models_capabilities(vision_server: LiveServer) -> None:
    status, body = post(vision_server, "/api/show", {"model": "tiny-llava"})
    assert status == 200 and "vision" in body["capabilities"]


def test_ollama_show_leaves_vision_out_for_a_text_model(api_server: LiveServer) -> None:
    status, body = post(api_server, "/api/show", {"model": "tiny-llama"})
    assert status == 200 and "vision" not in body["capabilities"]
