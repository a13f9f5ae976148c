"""Counting tokens with the loaded model's tokenizer, on the worker thread that owns it (Engine.count_tokens,
Engine.count_prompt): how big an attached file is, and how much of the context a conversation takes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from engine.errors import ModelError
from engine.messages import Message

if TYPE_CHECKING:
    from engine.backends.base import Backend


def text_tokens(backend: Backend | None, text: str) -> int:
    """Tokens of `text` as it sits inside a prompt (no special tokens added)."""
    if backend is None:
        raise ModelError("no model is loaded: tokens are counted with the model's own tokenizer")
    return len(backend.tokenizer.encode(text, add_special_tokens=False))


def prompt_tokens(backend: Backend | None, messages: list[Message]) -> int:
    """Tokens of `messages` rendered as the model's prompt (its chat template, BOS), ending with the assistant's cue."""
    from engine.generation.turn import render_prompt

    if backend is None:
        raise ModelError("no model is loaded: tokens are counted with the model's own tokenizer")
    return text_tokens(backend, render_prompt(backend.tokenizer, messages))
