"""Build tiny random-weight vision-language models that `mlx_vlm.load` accepts, for tests and benchmarks: LLaVA (a
CLIP vision encoder, a projector, a llama) and Gemma 3 (a SigLIP encoder, a pooling projector, gemma3_text).

Nothing is downloaded: the tokenizers are byte-level BPEs trained on tests/model_factory.py's corpus with the
family's image tokens, the image processors the family's own sized to the tiny encoders (28x28 pixels, 14-pixel
patches: four image tokens), and the chat templates write the family's image placeholder for each image item
(LLaVA: `<image>` in ChatML; Gemma 3: `<start_of_image>` in its turns). The lm_head is untied (STACK_NOTES "Test models").
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mlx.core as mx
from mlx.utils import tree_flatten

from tests.model_factory import _CORPUS, ModelSpec, build_tokenizer

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


GEMMA3_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<start_of_turn>' + ('model' if message['role'] == 'assistant' else message['role']) + '\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
    "{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}{{ '<start_of_image>' }}{% else %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}{{ '<end_of_turn>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<start_of_turn>model\n' }}{% endif %}"
)
GEMMA3_TOKENS = ["<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<image_soft_token>",
                 "<end_of_image>"]


def build_gemma3_vision_model(dest: Path, seed: int = 0) -> Path:
    """Write a loadable Gemma 3 vision folder: SigLIP 28x28 -> 4 image tokens, a 2-layer gemma3_text."""
    from mlx_vlm.models.gemma3 import Model, ModelConfig
    from mlx_vlm.models.gemma3.config import TextConfig, VisionConfig
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import Gemma3ImageProcessor, PreTrainedTokenizerFast

    dest.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(_CORPUS * 4, trainer=trainers.BpeTrainer(
        vocab_size=512, special_tokens=GEMMA3_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<bos>", eos_token="<end_of_turn>", pad_token="<pad>",
        extra_special_tokens={"image_token": "<image_soft_token>", "boi_token": "<start_of_image>",
                              "eoi_token": "<end_of_image>"})
    tokenizer.chat_template = GEMMA3_TEMPLATE
    tokenizer.save_pretrained(str(dest))
    Gemma3ImageProcessor(size={"height": 28, "width": 28}, image_mean=[0.5] * 3, image_std=[0.5] * 3).save_pretrained(str(dest))
    (dest / "processor_config.json").write_text(json.dumps({"processor_class": "Gemma3Processor", "image_seq_length": 4}))
    config = {
        "model_type": "gemma3", "architectures": ["Gemma3ForConditionalGeneration"],
        "image_token_index": tokenizer.convert_tokens_to_ids("<image_soft_token>"), "hidden_size": 64,
        "pad_token_id": 0, "vocab_size": 512, "eos_token_id": [tokenizer.eos_token_id], "mm_tokens_per_image": 4,
        "text_config": {"model_type": "gemma3_text", "hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128,
                        "num_attention_heads": 4, "head_dim": 16, "num_key_value_heads": 2, "vocab_size": 512,
                        "query_pre_attn_scalar": 16, "sliding_window": 512, "mm_tokens_per_image": 4,
                        "sliding_window_pattern": 2, "max_position_embeddings": 2048},
        "vision_config": {"model_type": "siglip_vision_model", "num_hidden_layers": 2, "hidden_size": 32,
                          "intermediate_size": 64, "num_attention_heads": 2, "patch_size": 14, "image_size": 28},
    }
    model_config = ModelConfig.from_dict(config)
    model_config.text_config = TextConfig.from_dict(config["text_config"])
    model_config.vision_config = VisionConfig.from_dict(config["vision_config"])
    mx.random.seed(seed)
    model = Model(model_config)
    mx.eval(model.parameters())
    mx.save_safetensors(str(dest / "model.safetensors"), dict(tree_flatten(model.parameters())),
                        metadata={"format": "mlx"})
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    return dest


def png_bytes(color: tuple[int, int, int], size: tuple[int, int] = (40, 30)) -> bytes:
    """A plain-coloured PNG."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()
