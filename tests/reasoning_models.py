"""Tokenizers of the reasoning families (their real chat templates, copied into tests/templates/) and a
scripted backend that streams a chosen answer through the real turn code.

The tokenizers are tiny byte-level BPEs trained here; each family's tags are single special tokens as in
the real vocabularies, so a tag arrives as one token, or (spelled out by a tokenizer that lacks them) split
over several, the way a stream can cut it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from threading import Event as StopFlag
from typing import Any

from engine.backends.base import MemoryCounters, Step
from engine.generation.settings import SamplingSettings
from tests.model_factory import ModelSpec, build_tokenizer

TEMPLATES = Path(__file__).parent / "templates"
FAMILIES = {
    "qwen3": ("qwen3.jinja", ("<think>", "</think>")),
    "deepseek_r1": ("deepseek_r1_distill.jinja", ("<｜User｜>", "<｜Assistant｜>", "<｜end▁of▁sentence｜>", "<think>", "</think>")),
    "gpt_oss": ("gpt_oss.jinja", ("<|start|>", "<|channel|>", "<|message|>", "<|end|>", "<|return|>", "<|call|>")),
    "chatml": (None, ()),
}


def family_tokenizer(dest: Path, family: str) -> Any:
    """A Hugging Face tokenizer with that family's chat template and tags, saved under `dest`."""
    from transformers import AutoTokenizer

    template_file, tags = FAMILIES[family]
    spec = ModelSpec(extra_tokens=tags)
    if template_file is not None:
        spec = ModelSpec(extra_tokens=tags, chat_template=(TEMPLATES / template_file).read_text())
    build_tokenizer(dest, spec)
    return AutoTokenizer.from_pretrained(str(dest))


class ScriptedBackend:
    """A backend whose model "generates" a given list of token ids, then EOS; it records every prompt it prefilled.

    Everything around it is the engine's own: prompt rendering, the prompt cache, stop strings, the
    reasoning split and the events.
    """

    compute_plan = None
    resident_weight_bytes = 0
    model = None

    def __init__(self, tokenizer: Any, script: list[int]) -> None:
        self.tokenizer = tokenizer
        self.script = list(script)
        self.prompts: list[list[int]] = []

    def new_cache(self) -> list[int]:
        return []

    def trim_cache(self, kv: list[int], n: int) -> bool:
        del kv[len(kv) - n :]
        return True

    def copy_cache(self, kv: list[int]) -> list[int]:
        return list(kv)

    def generate(self, prompt: list[int], kv: list[int], settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        self.prompts.append(list(prompt))
        kv.extend(prompt)
        return self._steps(kv, settings)

    def _steps(self, kv: list[int], settings: SamplingSettings) -> Iterator[Step]:
        tokens = (self.script + [self.tokenizer.eos_token_id])[: settings.max_tokens]
        for index, token in enumerate(tokens):
            said = self.tokenizer.decode(tokens[:index], skip_special_tokens=False)
            text = self.tokenizer.decode(tokens[: index + 1], skip_special_tokens=False)[len(said) :]
            eos = token == self.tokenizer.eos_token_id
            kv.append(token)
            reason = "stop" if eos else "length" if index + 1 == settings.max_tokens else None
            yield Step(token, "" if eos else text, reason, 100.0, index + 1, 10.0, 0)

    def memory(self) -> MemoryCounters:
        return MemoryCounters(0, 0, 0)

    def reset_peak_memory(self) -> None:
        pass

    def release(self) -> MemoryCounters:
        return MemoryCounters(0, 0, 0)
