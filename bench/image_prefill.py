"""Image prefill time: a small random LLaVA (224-pixel CLIP-style encoder, 256 image tokens) answering one new image
with one token, through Cabin's engine and through mlx-vlm's own stream_generate in the same process. Both times run
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


def main() -> None:
    from mlx_vlm import load

    spec = VisionSpec(image_size=224, patch_size=14, vision_hidden_size=128, vision_layers=4, hidden_size=256)
    with tempfile.TemporaryDirectory() as folder:
        path = build_vision_model(Path(folder) / "llava", spec)
        images = [png_bytes((40 * i, 90, 200 - 30 * i), (320, 240)) for i in range(RUNS)]
        engine = Engine()
        engine.load(path).result()
        cabin = [engine_ttft(engine, data, i) for i, data in enumerate(images)]
        engine.shutdown()
        model, processor = load(str(path))
        raw = [mlx_vlm_ttft(model, processor, data) for data in images]
    tokens = (spec.image_size // spec.patch_size) ** 2
    print(f"one new 320x240 image -> {tokens} image tokens (224x224, 14-px patches); request to first token, median of {RUNS}:")
    print(f"  Cabin engine  {statistics.median(cabin) * 1000:7.1f} ms")
    print(f"  mlx-vlm       {statistics.median(raw) * 1000:7.1f} ms")
    print(f"  ratio         {statistics.median(cabin) / statistics.median(raw):7.2f}x")


if __name__ == "__main__":
    main()
