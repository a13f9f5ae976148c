"""Image prefill time: a small random LLaVA (224-pixel CLIP-style encoder, 256 image tokens) answering one new image
with one token, through Cabin's engine and through the raw library in the same process: on MLX against mlx-vlm's own
stream_generate, on llama.cpp (a GGUF with its projector) against llama-cpp-python's MTMDChatHandler. Every time runs
from the request to the first token: reading and preprocessing the image, the vision encoder, the prefill.

    python -m bench.image_prefill
"""

from __future__ import annotations

import base64
import statistics
import tempfile
import time
from pathlib import Path

from engine.generation import Engine, SamplingSettings
from engine.images import readable
from engine.messages import Image, Message, Text
from tests.vision_factory import VisionSpec, build_vision_model, png_bytes

RUNS = 5
PROMPT = "<|im_start|>user\n<image>\nWhat is this?<|im_end|>\n<|im_start|>assistant\n"


def engine_ttft(engine: Engine, data: bytes, run: int) -> float:
    message = Message("user", (Image(data=base64.b64encode(data).decode()), Text("What is this?")))
    started = time.perf_counter()
    engine.chat([message], SamplingSettings(temperature=0, max_tokens=1), f"run{run}").result()
    return time.perf_counter() - started


def mlx_vlm_ttft(model: object, processor: object, data: bytes) -> float:
    from mlx_vlm import stream_generate

    started = time.perf_counter()
    inputs = processor(text=[PROMPT], images=[readable(data)])
    for _ in stream_generate(model, processor, PROMPT, input_ids=inputs["input_ids"], pixel_values=inputs["pixel_values"],
                             mask=inputs["attention_mask"], max_tokens=1, temperature=0.0):
        return time.perf_counter() - started
    return float("nan")


def handler_ttft(llama: object, data: bytes) -> float:
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    message = {"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                           {"type": "text", "text": "What is this?"}]}  # fmt: skip
    started = time.perf_counter()
    llama.create_chat_completion([message], max_tokens=1, temperature=0)  # type: ignore[attr-defined]
    return time.perf_counter() - started


def report(title: str, tokens: int, cabin: list[float], raw: list[float], raw_name: str) -> None:
    print(f"{title}: one new 320x240 image -> {tokens} image tokens; request to first token, median of {RUNS}:")
    print(f"  Cabin engine    {statistics.median(cabin) * 1000:5.1f} ms")
    print(f"  {raw_name:<15} {statistics.median(raw) * 1000:5.1f} ms")
    print(f"  ratio           {statistics.median(cabin) / statistics.median(raw):5.2f}x")


def images() -> list[bytes]:
    return [png_bytes((40 * i, 90, 200 - 30 * i), (320, 240)) for i in range(RUNS)]


def llama_cpp_section() -> None:
    import llama_cpp
    from llama_cpp.llama_chat_format import MTMDChatHandler

    from tests.mmproj_factory import VisionSpec as ProjectorSpec
    from tests.mmproj_factory import write_llava_pair

    vision = ProjectorSpec(image_size=224, patch_size=14, eps=1e-5, hidden=128, intermediate=512, layers=4)
    with tempfile.TemporaryDirectory() as folder:
        model, mmproj = write_llava_pair(Path(folder), vision=vision)
        engine = Engine()
        engine.load(model).result()
        cabin = [engine_ttft(engine, data, i) for i, data in enumerate(images())]
        engine.shutdown()
        handler = MTMDChatHandler(clip_model_path=str(mmproj), verbose=False)
        llama = llama_cpp.Llama(model_path=str(model), chat_handler=handler, n_ctx=512, verbose=False)
        handler_ttft(llama, png_bytes((1, 2, 3), (320, 240)))  # the handler opens its projector on the first call
        raw = [handler_ttft(llama, data) for data in images()]
        llama.close()
    report("llama.cpp (GGUF + mmproj)", vision.patches, cabin, raw, "MTMDChatHandler")


def mlx_section() -> None:
    from mlx_vlm import load

    spec = VisionSpec(image_size=224, patch_size=14, vision_hidden_size=128, vision_layers=4, hidden_size=256)
    with tempfile.TemporaryDirectory() as folder:
        path = build_vision_model(Path(folder) / "llava", spec)
        engine = Engine()
        engine.load(path).result()
        cabin = [engine_ttft(engine, data, i) for i, data in enumerate(images())]
        engine.shutdown()
        model, processor = load(str(path))
        raw = [mlx_vlm_ttft(model, processor, data) for data in images()]
    report("MLX (mlx-vlm)", (spec.image_size // spec.patch_size) ** 2, cabin, raw, "mlx-vlm")


def main() -> None:
    mlx_section()
    llama_cpp_section()


if __name__ == "__main__":
    main()
