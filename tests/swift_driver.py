"""swift-transformers' stateful generation loop, replayed call for call through the numpy MIL interpreter.

`LanguageModelWithStatefulKVCache.predictNextTokenScores` (Sources/Models/LanguageModel.swift): one
`MLState`; the first call passes every token so far, later calls only the last one; it fills whichever
mask inputs the model declares: `causalMask` with zeros of shape (1, 1, 1, tokenCount + 1),
`fullAttentionMask` (and `slidingAttentionMask`, with the window) with
`additiveAttentionMask(queryLength:totalLength:slidingWindow:)`, where tokenCount counts every token so far.
"""

from __future__ import annotations

import numpy as np

from engine.coreml.mil_runtime import MilRuntime

FLOAT16_LOWEST = -np.finfo(np.float16).max


def additive_attention_mask(query_length: int, total_length: int, sliding_window: int | None = None) -> np.ndarray:
    past = total_length - query_length
    query = past + np.arange(query_length)[:, None]
    key = np.arange(total_length)[None, :]
    allowed = key <= query
    if sliding_window is not None:
        allowed &= key > query - sliding_window
    return np.where(allowed, 0, FLOAT16_LOWEST).astype(np.float16)[None, None]


def mask_inputs(names: list[str], query_length: int, token_count: int, sliding_window: int | None) -> dict:
    masks = {}
    if "causalMask" in names:
        masks["causalMask"] = np.zeros((1, 1, 1, token_count + 1), dtype=np.float16)
    if "fullAttentionMask" in names:
        masks["fullAttentionMask"] = additive_attention_mask(query_length, token_count)
    if "slidingAttentionMask" in names:
        masks["slidingAttentionMask"] = additive_attention_mask(query_length, token_count, sliding_window)
    return masks


def greedy_tokens(runtime: MilRuntime, prompt: list[int], count: int, sliding_window: int | None = None) -> list[int]:
    """The `count` tokens swift-transformers' greedy generation gets from the package for `prompt`."""
    state, tokens = runtime.make_state(), list(prompt)
    for step in range(count):
        ids = tokens if step == 0 else tokens[-1:]
        inputs = {"inputIds": np.array([ids], dtype=np.int32)}
        inputs |= mask_inputs(runtime.input_names, len(ids), len(tokens), sliding_window)
        logits = runtime.predict(inputs, state)["logits"]
        tokens.append(int(np.argmax(logits[0, -1])))
    return tokens[len(prompt):]
