"""Build a tiny random-weight vision-language model that `mlx_vlm.load` accepts: LLaVA (a CLIP vision encoder, a
projector, a llama), for tests and benchmarks.

Nothing is downloaded: the tokenizer is the byte-level BPE of tests/model_factory.py with an `<image>` token, the
image processor a CLIP one sized to the tiny encoder (28x28 pixels, 14-pixel patches: four image tokens), and the
chat template ChatML that writes `<image>` for each image item. The lm_head is untied (see STACK_NOTES "Test models").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mlx.core as mx
from mlx.utils import tree_flatten

from tests.model_factory import ModelSpec, build_tokenizer

VISION_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}{{ '<image>\n' }}{% else %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}{{ '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
IMAGE_TOKEN = "<image>"


@dataclass(frozen=True)
class VisionSpec:
    hidden_size: int = 64
    num_hidden_layers: int = 2
    vision_hidden_size: int = 32
    vision_layers: int = 2
    image_size: int = 28
    patch_size: int = 14
    seed: int = 0


def image_tokens(spec: VisionSpec) -> int:
    """Tokens one image takes: a patch each (the CLS position is dropped, "default" feature selection)."""
    return (spec.image_size // spec.patch_size) ** 2


def build_vision_model(dest: Path, spec: VisionSpec = VisionSpec()) -> Path:
    """Write a loadable LLaVA folder (config, safetensors, tokenizer, image processor) to `dest` and return it."""
    from mlx_vlm.models.llava import Model, ModelConfig
    from mlx_vlm.models.llava.config import TextConfig, VisionConfig
    from transformers import CLIPImageProcessor

    dest.mkdir(parents=True, exist_ok=True)
    text = ModelSpec(hidden_size=spec.hidden_size, num_hidden_layers=spec.num_hidden_layers,
                     extra_tokens=(IMAGE_TOKEN,), chat_template=VISION_TEMPLATE)
    build_tokenizer(dest, text)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(dest))
    size = spec.image_size
    CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size}).save_pretrained(str(dest))
    (dest / "processor_config.json").write_text(json.dumps({
        "processor_class": "LlavaProcessor", "patch_size": spec.patch_size, "image_token": IMAGE_TOKEN,
        "vision_feature_select_strategy": "default", "num_additional_image_tokens": 1}))
    config = vision_config(spec, text, tokenizer.convert_tokens_to_ids(IMAGE_TOKEN), tokenizer.eos_token_id)
    model_config = ModelConfig.from_dict(config)
    model_config.text_config = TextConfig.from_dict(config["text_config"])
    model_config.vision_config = VisionConfig.from_dict(config["vision_config"])
    mx.random.seed(spec.seed)
    model = Model(model_config)
    mx.eval(model.parameters())
    mx.save_safetensors(str(dest / "model.safetensors"), dict(tree_flatten(model.parameters())),
                        metadata={"format": "mlx"})
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    return dest


def vision_config(spec: VisionSpec, text: ModelSpec, image_token_id: int, eos_token_id: int) -> dict:
    return {
        "model_type": "llava",
        "architectures": ["LlavaForConditionalGeneration"],
        "image_token_index": image_token_id,
        "vision_feature_select_strategy": "default",
        "vision_feature_layer": -2,
        "vocab_size": text.vocab_size,
        "eos_token_id": eos_token_id,
        "text_config": {
            "model_type": "llama", "hidden_size": text.hidden_size, "num_hidden_layers": text.num_hidden_layers,
            "intermediate_size": text.intermediate_size, "num_attention_heads": text.num_attention_heads,
            "num_key_value_heads": text.num_key_value_heads, "vocab_size": text.vocab_size, "rms_norm_eps": 1e-5,
            "max_position_embeddings": text.context_length, "tie_word_embeddings": False,
        },
        "vision_config": {
            "model_type": "clip_vision_model", "num_hidden_layers": spec.vision_layers,
            "hidden_size": spec.vision_hidden_size, "intermediate_size": spec.vision_hidden_size * 2,
            "num_attention_heads": 2, "image_size": spec.image_size, "patch_size": spec.patch_size,
            "projection_dim": spec.vision_hidden_size,
        },
    }


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    """A plain-coloured PNG."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()
