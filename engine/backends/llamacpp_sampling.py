"""llama.cpp's sampler chain for Cabin's SamplingSettings, meaning on llama.cpp what they mean on MLX.

mlx_lm applies its logits processors (repetition penalty over the last 20 ids; presence and frequency penalties,
which Cabin gives the answer's length as window), then top_p, min_p and top_k on the log-probabilities, then samples
at the temperature; temperature 0 is argmax. The chain below is built in that order with those windows.
"""

from __future__ import annotations

from typing import Any

from engine.generation.settings import SamplingSettings

REPETITION_WINDOW = 20
"""mlx_lm's repetition_context_size: the repetition penalty looks at this many latest ids."""


def sampler_chain(settings: SamplingSettings, vocab_size: int) -> Any:
    """llama.cpp's sampler for these settings, in mlx_lm's order (engine/backends/mlx.py) and with its windows."""
    from llama_cpp import LLAMA_DEFAULT_SEED
    from llama_cpp._internals import LlamaSampler

    chain = LlamaSampler()
    if settings.repetition_penalty != 1.0:
        chain.add_penalties(vocab_size, REPETITION_WINDOW, settings.repetition_penalty, 0.0, 0.0)
    if settings.presence_penalty or settings.frequency_penalty:
        chain.add_penalties(vocab_size, settings.max_tokens, 1.0, settings.frequency_penalty, settings.presence_penalty)
    if settings.temperature == 0:
        chain.add_greedy()
        return chain
    if 0 < settings.top_p < 1:
        chain.add_top_p(settings.top_p, 1)
    if settings.min_p:
        chain.add_min_p(settings.min_p, 1)
    if 0 < settings.top_k < vocab_size:
        chain.add_top_k(settings.top_k)
    chain.add_temp(settings.temperature)
    chain.add_dist(LLAMA_DEFAULT_SEED if settings.seed is None else settings.seed % LLAMA_DEFAULT_SEED)
    return chain
