"""One conversation's KV cache and the exact token ids it holds, so each turn prefills only what is new.

Re-tokenizing the rendered history can split an earlier answer into different ids than the ones the
model generated, which would silently throw the cache away. So the cache remembers the rendered text
its ids stand for, and a new prompt that extends that text reuses the ids verbatim.
"""

from __future__ import annotations

from typing import Any

from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache


def common_prefix_len(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class ConversationCache:
    """Lives on the worker thread only."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.kv: list[Any] = make_prompt_cache(model)
        self.tokens: list[int] = []
        """Ids whose keys and values are in `kv`, in order."""
        self._text = ""
        self._text_tokens = 0
        """`tokens[:_text_tokens]` encode exactly `_text`, a prefix of the last rendered conversation."""

    def reset(self) -> None:
        self.kv = make_prompt_cache(self._model)
        self.tokens, self._text, self._text_tokens = [], "", 0

    def prompt_ids(self, tokenizer: Any, rendered: str) -> list[int]:
        """Token ids for the rendered prompt, reusing the cached ids for the part already seen."""
        if self._text and rendered.startswith(self._text):
            suffix = rendered[len(self._text) :]
            return self.tokens[: self._text_tokens] + tokenizer.encode(suffix, add_special_tokens=False)
        return tokenizer.encode(rendered, add_special_tokens=False)

    def rewind_to(self, prompt: list[int]) -> list[int]:
        """Drop cached tokens that are not a prefix of `prompt`; return the ids still to prefill (≥ 1)."""
        keep = min(common_prefix_len(prompt, self.tokens), len(prompt) - 1)
        if keep < len(self.tokens):
            if can_trim_prompt_cache(self.kv):
                trim_prompt_cache(self.kv, len(self.tokens) - keep)
                self.tokens = self.tokens[:keep]
            else:
                self.reset()
        return prompt[len(self.tokens) :]

    def record(self, rendered: str, prompt: list[int], answer: str, answer_ids: list[int], fed_ids: list[int]) -> None:
        """After an answer: the cache holds prompt + every generated id (fed_ids, EOS included)."""
        self.tokens = prompt + fed_ids
        self._text = rendered + answer
        self._text_tokens = len(prompt) + len(answer_ids)
