"""Build small random-weight models that `mlx_lm.load` accepts: for tests and benchmarks.

Nothing is downloaded: the weights are random (seeded), the tokenizer is a byte-level BPE trained
here on a fixed corpus, and the chat template is ChatML. The lm_head is untied because random
tied embeddings make greedy decoding repeat the input token.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import mlx.core as mx
from mlx.utils import tree_map
from mlx_lm.utils import _get_classes, quantize_model, save_model

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ARCHITECTURES = {
    "llama": "LlamaForCausalLM",
    "qwen2": "Qwen2ForCausalLM",
    "qwen3": "Qwen3ForCausalLM",
    "mistral": "MistralForCausalLM",
    "phi3": "Phi3ForCausalLM",
    "gemma3_text": "Gemma3ForCausalLM",
}
SLIDING_WINDOW = 4
"""gemma3_text: a window shorter than the test prompts, so the sliding layers really drop keys."""


def arch_config(spec: ModelSpec) -> dict:
    """What an architecture needs beyond the common keys (q/k norm sizes, sliding window, RoPE bases...)."""
    head_dim = spec.hidden_size // spec.num_attention_heads
    return {
        "qwen3": {"head_dim": head_dim},
        "mistral": {"head_dim": head_dim, "sliding_window": None},
        "phi3": {"pad_token_id": 0},
        "gemma3_text": {"head_dim": head_dim, "query_pre_attn_scalar": head_dim, "sliding_window": SLIDING_WINDOW,
                        "sliding_window_pattern": 2, "rope_theta": 1_000_000.0, "rope_local_base_freq": 10_000.0,
                        "rms_norm_eps": 1e-6},
    }.get(spec.arch, {})

_CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Cabin is a local-first assistant that runs language models on your own machine.",
    "Hello! How can I help you today? Tell me about the weather, code, tables and lists.",
    "def add(a, b):\n    return a + b\n",
    "| name | size |\n|------|------|\n| tiny | 1 MB |\n",
    "Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000. Punctuation: , . ; : ! ? ( ) [ ] { } \" '",
    "A system prompt sets the tone; the user asks; the assistant answers in Markdown.",
]


@dataclass(frozen=True)
class ModelSpec:
    arch: str = "llama"
    hidden_size: int = 64
    num_hidden_layers: int = 2
    intermediate_size: int = 128
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    vocab_size: int = 512
    dtype: str = "float32"
    bits: int | None = None
    group_size: int = 32
    seed: int = 0
    context_length: int = 2048
    bos_token: str | None = None
    """A BOS token the tokenizer adds to every encoding (as Llama's and Gemma's do); None: no BOS, like Qwen's."""
    chat_template: str | None = CHATML_TEMPLATE
    """None: a base model without a chat template."""
    extra_tokens: tuple[str, ...] = ()
    """More special tokens, each one id as in the real family (`<think>`, harmony's `<|channel|>`...)."""


def llama_of_size(hidden_size: int, layers: int) -> ModelSpec:
    """A llama shaped like real ones (64-wide heads, a third as many KV heads, 8/3 MLP), for benchmarks."""
    heads = hidden_size // 64
    return ModelSpec(hidden_size=hidden_size, num_hidden_layers=layers, intermediate_size=hidden_size * 8 // 3,
                     num_attention_heads=heads, num_key_value_heads=max(1, heads // 3))


def build_tokenizer(dest: Path, spec: ModelSpec) -> None:
    """Train a byte-level BPE on a fixed corpus and save it as a Hugging Face fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=SPECIAL_TOKENS + list(spec.extra_tokens) + ([spec.bos_token] if spec.bos_token else []),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    if spec.bos_token:
        bos = (spec.bos_token, tokenizer.token_to_id(spec.bos_token))
        tokenizer.post_processor = processors.TemplateProcessing(single=f"{bos[0]} $A", special_tokens=[bos])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=spec.bos_token,
    )
    fast.chat_template = spec.chat_template
    fast.save_pretrained(str(dest))


def model_config(spec: ModelSpec) -> dict:
    return {
        "model_type": spec.arch,
        "architectures": [ARCHITECTURES[spec.arch]],
        "hidden_size": spec.hidden_size,
        "num_hidden_layers": spec.num_hidden_layers,
        "intermediate_size": spec.intermediate_size,
        "num_attention_heads": spec.num_attention_heads,
        "num_key_value_heads": spec.num_key_value_heads,
        "vocab_size": spec.vocab_size,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": spec.context_length,
        "tie_word_embeddings": False,
        "torch_dtype": spec.dtype,
        "bos_token_id": None,
        "eos_token_id": 2,
    } | arch_config(spec)


def build_model(dest: Path, spec: ModelSpec = ModelSpec()) -> Path:
    """Write a loadable model folder (config, safetensors, tokenizer) to `dest` and return it."""
    dest.mkdir(parents=True, exist_ok=True)
    build_tokenizer(dest, spec)
    config = model_config(spec)
    model_class, args_class = _get_classes(config)
    mx.random.seed(spec.seed)
    model = model_class(args_class.from_dict(config))
    dtype = getattr(mx, spec.dtype)
    model.update(tree_map(lambda p: p.astype(dtype), model.parameters()))
    mx.eval(model.parameters())
    if spec.bits is not None:
        model, config = quantize_model(model, config, spec.group_size, spec.bits)
    save_model(dest, model)
    (dest / "config.json").write_text(json.dumps(config, indent=2))
    return dest
