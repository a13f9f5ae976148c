"""Tiny multimodal GGUF pairs for llama.cpp's multimodal library (mtmd): a text model from gguf_factory and beside
it a vision projector file (`mmproj-*.gguf`) with random weights, in the keys, tensor names and layouts llama.cpp's
converters write for the family, so that `mtmd_init_from_file` loads it against the text model and turns an image
into a few embeddings of the text model's width.

- LLaVA-1.5: a CLIP encoder (class token, pre-norm, quick-GELU, no post-norm) and the two-layer MLP projector
  (`mlp`). Like a real llava-1.5 file, it holds `block_count` blocks of which clip.cpp's llava graph runs all but
  the last; the image is its patches' embeddings, no text around them.
- Gemma 3: a SigLIP encoder (patch bias, post-norm, GELU), average pooling, `mm.soft_emb_norm` and
  `mm.input_projection`; mtmd puts the text tokens <start_of_image> and <end_of_image> around the image and
  decodes its tokens with non-causal attention.
- Qwen2-VL: a ViT whose patch embedding is two convolution kernels (the Conv3D's two frames) and which positions
  its patches with 2-D rotary embeddings (no learned positions, no class token), then the merger (`ln_q`, 2×2
  patches concatenated, mm.0 → GELU → mm.2). The text model (`qwen2vl`) numbers positions in several dimensions
  (M-RoPE): mtmd gives an image of nx×ny tokens max(nx, ny) positions, between <|vision_start|> and
  <|vision_end|>. mtmd resizes every image to at least 8 tokens (clip.cpp's limit for the family), so the test
  image of 40×30 px becomes 112×84 px: 4×3 tokens at 4 positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import MODEL_TENSOR, TENSOR_NAMES, GGUFType, GGUFWriter, Keys, LlamaFileType, VisionProjectorType

from tests.gguf_factory import GgufSpec, write_gguf

TEXT_HIDDEN = 64  # the text models' width, so the projectors' output width
PARTS_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}{% if part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)  # fmt: skip
"""ChatML that also renders OpenAI-style content lists (their text parts, in order), as multimodal handlers pass."""

LLAVA_PROJECTOR = "mlp"  # clip.cpp's PROJECTOR_TYPE_MLP (gguf's VisionProjectorType has no constant for it)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
SIGLIP_MEAN = SIGLIP_STD = (0.5, 0.5, 0.5)
IMAGE_BEGIN, IMAGE_END = "<start_of_image>", "<end_of_image>"  # mtmd.cpp's delimiters for gemma3 projectors
VISION_START, VISION_END = "<|vision_start|>", "<|vision_end|>"  # and for qwen2vl_merger projectors


@dataclass(frozen=True)
class VisionSpec:
    image_size: int
    patch_size: int
    eps: float
    hidden: int = 32
    intermediate: int = 64
    heads: int = 2
    layers: int = 2

    @property
    def patches(self) -> int:
        return (self.image_size // self.patch_size) ** 2


LLAVA_VISION = VisionSpec(image_size=28, patch_size=14, eps=1e-5)
GEMMA3_VISION = VisionSpec(image_size=32, patch_size=8, eps=1e-6)
GEMMA3_POOL = 2  # 4×4 patches averaged 2×2: four image tokens (real Gemma 3: 64×64 by 4, 256)
QWEN2VL_VISION = VisionSpec(image_size=56, patch_size=14, eps=1e-6)  # heads of 16: 2-D rope over 4 sections of 4
QWEN2VL_MERGE = 2  # clip.cpp's default spatial merge (2×2 patches a token), which the converter leaves unwritten
QWEN2VL_ROPE_SECTIONS = [2, 3, 3, 0]  # the text heads' 8 rotary pairs: time, height, width (real 2B: 16, 24, 24)


def name(tensor: MODEL_TENSOR, suffix: str = "weight", block: int | None = None) -> str:
    base = TENSOR_NAMES[tensor]
    return f"{base.format(bid=block) if block is not None else base}.{suffix}"


class Tensors:
    """Named random tensors, drawn in insertion order from one generator (so a seed gives the same file)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.arrays: dict[str, np.ndarray] = {}

    def linear(self, key: str, shape: tuple[int, ...], fan_in: int, dtype: type = np.float16) -> None:
        """Weights scaled by 1/√fan_in, so activations stay of order one through random layers."""
        self.arrays[key] = (self.rng.standard_normal(shape) / np.sqrt(fan_in)).astype(dtype)

    def vector(self, key: str, size: int, centre: float = 0.0, spread: float = 0.02) -> None:
        self.arrays[key] = (centre + spread * self.rng.standard_normal(size)).astype(np.float32)

    def dense(self, tensor: MODEL_TENSOR, rows: int, columns: int, block: int | None = None) -> None:
        self.linear(name(tensor, block=block), (rows, columns), columns)  # (output, input), as nn.Linear
        self.vector(name(tensor, "bias", block), rows)

    def layer_norm(self, tensor: MODEL_TENSOR, size: int, block: int | None = None) -> None:
        self.vector(name(tensor, block=block), size, centre=1.0)
        self.vector(name(tensor, "bias", block), size)


def add_patch_kernel(tensors: Tensors, key: str, vision: VisionSpec, embedding_type: type) -> None:
    """PyTorch's conv layout (out, in, kh, kw); GGUF stores it reversed, as ggml_conv_2d's kernel [kw, kh, in, out]."""
    p = vision.patch_size
    tensors.linear(key, (vision.hidden, 3, p, p), 3 * p * p, embedding_type)


def add_encoder(tensors: Tensors, vision: VisionSpec, positions: int, embedding_type: type) -> None:
    """Patch convolution, learned positions and the transformer blocks of a CLIP/SigLIP tower."""
    add_patch_kernel(tensors, name(MODEL_TENSOR.V_ENC_EMBD_PATCH), vision, embedding_type)
    tensors.linear(name(MODEL_TENSOR.V_ENC_EMBD_POS), (positions, vision.hidden), 2500, embedding_type)  # ±0.02
    add_blocks(tensors, vision)


def add_blocks(tensors: Tensors, vision: VisionSpec) -> None:
    """Pre-norm transformer blocks: LayerNorms, attention and a two-layer MLP, every projection with a bias."""
    for block in range(vision.layers):
        tensors.layer_norm(MODEL_TENSOR.V_ENC_INPUT_NORM, vision.hidden, block)
        for projection in (MODEL_TENSOR.V_ENC_ATTN_Q, MODEL_TENSOR.V_ENC_ATTN_K, MODEL_TENSOR.V_ENC_ATTN_V):
            tensors.dense(projection, vision.hidden, vision.hidden, block)
        tensors.dense(MODEL_TENSOR.V_ENC_ATTN_O, vision.hidden, vision.hidden, block)
        tensors.layer_norm(MODEL_TENSOR.V_ENC_POST_ATTN_NORM, vision.hidden, block)
        tensors.dense(MODEL_TENSOR.V_ENC_FFN_UP, vision.intermediate, vision.hidden, block)  # fc1
        tensors.dense(MODEL_TENSOR.V_ENC_FFN_DOWN, vision.hidden, vision.intermediate, block)  # fc2


def start_mmproj(path: Path, title: str, vision: VisionSpec, projector: str) -> GGUFWriter:
    """The keys every vision projector file has (MmprojModel.set_gguf_parameters), and its projector type."""
    writer = GGUFWriter(str(path), "clip")
    writer.add_type(GGUFType.MMPROJ)
    writer.add_name(title)
    writer.add_file_type(LlamaFileType.MOSTLY_F16)
    writer.add_clip_has_vision_encoder(True)
    writer.add_vision_projection_dim(TEXT_HIDDEN)
    writer.add_vision_image_size(vision.image_size)
    writer.add_vision_patch_size(vision.patch_size)
    writer.add_vision_embedding_length(vision.hidden)
    writer.add_vision_feed_forward_length(vision.intermediate)
    writer.add_vision_block_count(vision.layers)
    writer.add_vision_head_count(vision.heads)
    writer.add_clip_projector_type(projector)
    writer.add_vision_attention_layernorm_eps(vision.eps)
    return writer


def finish(writer: GGUFWriter, tensors: Tensors) -> None:
    for key, array in tensors.arrays.items():
        writer.add_tensor(key, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def add_preprocessing(writer: GGUFWriter, mean: Sequence[float], std: Sequence[float]) -> None:
    writer.add_vision_image_mean(list(mean))
    writer.add_vision_image_std(list(std))


def write_llava_mmproj(path: Path, seed: int, vision: VisionSpec = LLAVA_VISION) -> Path:
    """CLIP + LLaVA-1.5's MLP (mm.0 → GELU → mm.2) as the llava converter writes it at f16."""
    writer = start_mmproj(path, "tiny-llava", vision, LLAVA_PROJECTOR)
    writer.add_bool(Keys.Clip.HAS_LLAVA_PROJECTOR, True)  # as the legacy llava converter marks it
    writer.add_vision_use_gelu(False)  # CLIP's quick_gelu
    add_preprocessing(writer, CLIP_MEAN, CLIP_STD)
    tensors = Tensors(seed)
    add_encoder(tensors, vision, positions=vision.patches + 1, embedding_type=np.float16)  # + the class token
    tensors.vector(TENSOR_NAMES[MODEL_TENSOR.V_ENC_EMBD_CLS], vision.hidden, spread=1.0)
    tensors.layer_norm(MODEL_TENSOR.V_PRE_NORM, vision.hidden)
    tensors.dense(MODEL_TENSOR.V_MMPROJ, TEXT_HIDDEN, vision.hidden, block=0)
    tensors.dense(MODEL_TENSOR.V_MMPROJ, TEXT_HIDDEN, TEXT_HIDDEN, block=2)
    finish(writer, tensors)
    return path


def write_gemma3_mmproj(path: Path, seed: int) -> Path:
    """SigLIP + Gemma 3's projector as Gemma3VisionModel writes it (embeddings f32, input projection f16)."""
    vision = GEMMA3_VISION
    writer = start_mmproj(path, "tiny-gemma3", vision, VisionProjectorType.GEMMA3)
    writer.add_vision_use_gelu(True)
    writer.add_vision_projector_scale_factor(GEMMA3_POOL)
    add_preprocessing(writer, SIGLIP_MEAN, SIGLIP_STD)
    tensors = Tensors(seed)
    add_encoder(tensors, vision, positions=vision.patches, embedding_type=np.float32)
    tensors.vector(name(MODEL_TENSOR.V_ENC_EMBD_PATCH, "bias"), vision.hidden)
    tensors.layer_norm(MODEL_TENSOR.V_POST_NORM, vision.hidden)
    tensors.vector(name(MODEL_TENSOR.V_MM_SOFT_EMB_NORM), vision.hidden, centre=1.0)  # already 1 + w
    # stored (vision, text) as in the checkpoint: clip.cpp transposes it before the product
    tensors.linear(name(MODEL_TENSOR.V_MM_INP_PROJ), (vision.hidden, TEXT_HIDDEN), vision.hidden)
    finish(writer, tensors)
    return path


def write_qwen2vl_mmproj(path: Path, seed: int) -> Path:
    """Qwen2-VL's vision tower and merger as Qwen2VLVisionModel writes them at f16 (the Conv3D split into its two
    frames' kernels; quick-GELU blocks, so no use_gelu key; CLIP's normalization)."""
    vision = QWEN2VL_VISION
    writer = start_mmproj(path, "tiny-qwen2vl", vision, VisionProjectorType.QWEN2VL)
    add_preprocessing(writer, CLIP_MEAN, CLIP_STD)
    tensors = Tensors(seed)
    patch = name(MODEL_TENSOR.V_ENC_EMBD_PATCH)
    for frame_key in (patch, f"{patch}.1"):  # clip.cpp adds both kernels' convolutions for a still image
        add_patch_kernel(tensors, frame_key, vision, np.float16)
    add_blocks(tensors, vision)
    tensors.layer_norm(MODEL_TENSOR.V_POST_NORM, vision.hidden)  # the merger's ln_q
    merged = vision.hidden * QWEN2VL_MERGE**2
    tensors.dense(MODEL_TENSOR.V_MMPROJ, merged, merged, block=0)
    tensors.dense(MODEL_TENSOR.V_MMPROJ, TEXT_HIDDEN, merged, block=2)
    finish(writer, tensors)
    return path


def text_spec(arch: str, seed: int, extra_special: tuple[str, ...] = (),
              extra_metadata: dict[str, object] | None = None) -> GgufSpec:  # fmt: skip
    return GgufSpec(arch=arch, hidden=TEXT_HIDDEN, intermediate=2 * TEXT_HIDDEN, seed=seed,
                    chat_template=PARTS_CHATML, extra_special=extra_special,
                    extra_metadata=extra_metadata or {})  # fmt: skip


def write_llava_pair(folder: Path, seed: int = 0, vision: VisionSpec = LLAVA_VISION) -> tuple[Path, Path]:
    """A tiny llama text model and its LLaVA-1.5 projector beside it: (model, mmproj). `vision`: the encoder's
    size (the default's image is 4 tokens; benchmarks take a real-sized one)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = write_gguf(folder / "tiny-llava.Q8_0.gguf", text_spec("llama", seed))
    return model, write_llava_mmproj(folder / "mmproj-tiny-llava-f16.gguf", seed + 1, vision)


def write_gemma3_pair(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """A tiny gemma3 text model (its vocabulary holding the image delimiters) and its projector: (model, mmproj)."""
    folder.mkdir(parents=True, exist_ok=True)
    model = write_gguf(folder / "tiny-gemma3.Q8_0.gguf", text_spec("gemma3", seed, (IMAGE_BEGIN, IMAGE_END)))
    return model, write_gemma3_mmproj(folder / "mmproj-tiny-gemma3-f16.gguf", seed + 1)


def write_qwen2vl_pair(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """A tiny qwen2vl text model (M-RoPE sections; its vocabulary holding the vision delimiters) and its
    Qwen2-VL projector: (model, mmproj)."""
    folder.mkdir(parents=True, exist_ok=True)
    sections = {Keys.Rope.DIMENSION_SECTIONS.format(arch="qwen2vl"): QWEN2VL_ROPE_SECTIONS}
    spec = text_spec("qwen2vl", seed, (VISION_START, VISION_END), sections)
    model = write_gguf(folder / "tiny-qwen2vl.Q8_0.gguf", spec)
    return model, write_qwen2vl_mmproj(folder / "mmproj-tiny-qwen2vl-f16.gguf", seed + 1)
