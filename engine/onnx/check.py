"""The export's check, run here with the runtime an Android app uses: ONNX Runtime GenAI on the CPU.

Greedy decoding of a fixed prompt must give MLX's tokens (fp32, fp16); teacher-forced top-1 agreement with MLX
float32 on a fixed text must reach the goal (int4), with perplexity reported beside MLX's. Either failing
fails the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.coreml.fidelity import AGREEMENT_GOAL, Fidelity, measure
from engine.coreml.options import ExportError

GREEDY_TOKENS = 32
GREEDY_EXACT = ("fp32", "fp16")
"""Precisions whose greedy tokens must all be MLX float32's; int4 is held to the agreement goal instead."""


@dataclass(frozen=True)
class Reference:
    """What MLX (float32) says: its greedy continuation of the prompt, and its logits over the quality text."""

    prompt: list[int]
    greedy: list[int]
    text: np.ndarray
    text_logits: np.ndarray


@dataclass(frozen=True)
class Greedy:
    """ORT GenAI's greedy tokens against MLX's: how many leading tokens are the same."""

    tokens: list[int]
    reference: list[int]

    @property
    def same_prefix(self) -> int:
        return next((i for i, (a, b) in enumerate(zip(self.tokens, self.reference)) if a != b),
                    min(len(self.tokens), len(self.reference)))  # fmt: skip

    @property
    def matches(self) -> bool:
        return self.same_prefix == len(self.tokens) > 0


def mlx_reference(model_path: Path, prompt: list[int], text: np.ndarray) -> Reference:
    """Greedy GREEDY_TOKENS tokens after `prompt` and the logits over `text`, from mlx_lm in float32."""
    import mlx.core as mx
    import mlx_lm
    from mlx_lm.models.cache import make_prompt_cache

    from engine.compute_dtype import upcast_to_float32

    model, _ = mlx_lm.load(str(model_path))
    upcast_to_float32(model)
    text_logits = np.array(model(mx.array(text)).astype(mx.float32))
    cache, x, greedy = make_prompt_cache(model), mx.array([prompt]), []
    for _ in range(GREEDY_TOKENS):
        token = int(mx.argmax(model(x, cache=cache)[0, -1]).item())
        greedy.append(token)
        x = mx.array([[token]])
    del model
    mx.clear_cache()
    return Reference(prompt, greedy, text, text_logits)


def generator(model: Any, max_length: int) -> Any:
    import onnxruntime_genai as og

    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=max_length)
    return og.Generator(model, params)


def ort_greedy(model: Any, prompt: list[int]) -> list[int]:
    """ORT GenAI's greedy tokens after `prompt` (fewer than GREEDY_TOKENS only if it reached EOS)."""
    g = generator(model, len(prompt) + GREEDY_TOKENS)
    g.append_tokens(prompt)
    tokens: list[int] = []
    while not g.is_done() and len(tokens) < GREEDY_TOKENS:
        g.generate_next_token()
        tokens.append(int(g.get_next_tokens()[0]))
    return tokens


def ort_text_logits(model: Any, text: np.ndarray) -> np.ndarray:
    """(1, n, vocab) logits of one prefill over `text`."""
    g = generator(model, text.shape[1] + 1)
    g.append_tokens(text[0].astype(np.int32))
    return np.asarray(g.get_output("logits"), dtype=np.float32)


def check_export(folder: Path, reference: Reference, precision: str) -> tuple[Greedy, Fidelity]:
    """Run the export; raise ExportError when it does not hold for its precision."""
    import onnxruntime_genai as og

    model = og.Model(str(folder))
    greedy = Greedy(ort_greedy(model, reference.prompt), reference.greedy)
    quality = measure(ort_text_logits(model, reference.text), reference.text_logits, reference.text)
    del model
    if precision in GREEDY_EXACT and not greedy.matches:
        raise ExportError(f"ONNX Runtime GenAI's greedy tokens differ from MLX's at token {greedy.same_prefix + 1} "
                          f"of {len(greedy.tokens)}")  # fmt: skip
    if precision == "int4" and quality.agreement < AGREEMENT_GOAL:
        raise ExportError(f"the int4 export agrees with MLX float32 on {quality.agreement:.1%} of next tokens, "
                          f"below the {AGREEMENT_GOAL:.0%} goal ({quality.describe()})")  # fmt: skip
    return greedy, quality
