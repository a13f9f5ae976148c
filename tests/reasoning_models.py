"""Tokenizers of the reasoning families (their real chat templates, copied into tests/templates/) and a
scripted backend that streams a chosen answer through the real turn code.

The tokenizers are tiny byte-level BPEs trained here; each family's tags are single special tokens as in
the real vocabularies, so a tag arrives as one token, or (spelled out by a tokenizer that lacks them) split
over several, the way a stream can cut it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from threading import Event as StopFlag
from typing import Any

from engine.backends.base import MemoryCounters, Step
from engine.generation import Engine
from engine.generation.caches import PromptCaches
from engine.generation.settings import SamplingSettings
from engine.models.folder import ModelInfo
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
    context_limit = None
    model = None
    batchable = False

    def __init__(self, tokenizer: Any, script: list[int], pause_at: int | None = None) -> None:
        self.tokenizer = tokenizer
        self.script = list(script)
        self.prompts: list[list[int]] = []
        self.pause_at = pause_at
        """Before streaming this token, wait for `resume` (or the stop flag): a moment to look at the answer."""
        self.resume = threading.Event()

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
        return self._steps(kv, settings, stop)

    def _steps(self, kv: list[int], settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        tokens = (self.script + [self.tokenizer.eos_token_id])[: settings.max_tokens]
        for index, token in enumerate(tokens):
            while index == self.pause_at and not (self.resume.wait(0.02) or stop.is_set()):
                pass
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


def install(engine: Engine, backend: ScriptedBackend, name: str = "scripted-thinker") -> ModelInfo:
    """Make `backend` the engine's loaded model (on its worker), as loading a model folder would."""
    info = ModelInfo(name, Path(name), "qwen3", None, 0, 4096)

    def put() -> ModelInfo:
        lifecycle = engine._lifecycle
        lifecycle.release()
        lifecycle.backend, lifecycle.info = backend, info
        lifecycle.caches = PromptCaches(backend, 4, 3)
        return info

    return engine.submit(put).result()
