"""`cabin bench --draft-model`: the same greedy answer with mlx_lm's `stream_generate`, with the loaded draft and
without it, in one run on the engine's worker: decode tok/s of each, the draft's acceptance and the speedup.

A random prompt (as pp/tg use) would make every draft token a guess: the prompt here is a chat question, so the
draft proposes what a conversation gives it. EOS is not banned, so a short answer ends the run early."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from mlx_lm import stream_generate

from engine.backends.mlx_speculative import DraftCounter
from engine.errors import ModelError
from engine.messages import system, user
from engine.speculative import DraftStats

if TYPE_CHECKING:
    from engine.backends.mlx import MLXBackend

QUESTION = [system("You are a helpful AI assistant."), user("Explain in a few paragraphs how a lighthouse works.")]


@dataclass(frozen=True)
class SpeculativeResult:
    draft: str
    num_draft_tokens: int
    generated_tokens: int
    alone_tps: float
    """Decode tok/s of the model alone (mlx_lm's generation_tps)."""
    drafted_tps: float
    proposed: int
    accepted: int
    same_tokens: bool
    """Whether both runs generated the same tokens (they must, greedy)."""

    @property
    def acceptance(self) -> float:
        return DraftStats(self.proposed, self.accepted).acceptance

    @property
    def speedup(self) -> float:
        return self.drafted_tps / self.alone_tps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"acceptance": self.acceptance, "speedup": self.speedup}

    def describe(self) -> str:
        return (f"speculative (draft {self.draft}, {self.num_draft_tokens} at a time, {self.generated_tokens} tokens): "
                f"{self.drafted_tps:.2f} tok/s vs {self.alone_tps:.2f} alone = {self.speedup:.2f}×; "
                f"{self.accepted}/{self.proposed} draft tokens accepted ({self.acceptance:.0%})"
                + ("" if self.same_tokens else "; the answers DIFFER"))  # fmt: skip


def greedy_run(backend: MLXBackend, prompt: list[int], tokens: int, draft: bool) -> tuple[list[int], float, DraftStats]:
    """(tokens, decode tok/s, draft counts) of one greedy answer from a fresh cache (the engine's: its KV bits)."""
    model, tokenizer, loaded, cache = backend.model, backend.tokenizer, backend.draft, backend.new_cache()
    kwargs: dict[str, Any] = {"prompt_cache": backend.target_cache(cache)}
    counter = DraftCounter(loaded.num_draft_tokens, tokens, 0.0)
    if draft:
        kwargs = {"draft_model": loaded.model, "num_draft_tokens": loaded.num_draft_tokens, "prompt_cache": cache}
    ids, tps, stats = [], 0.0, DraftStats()
    for response in stream_generate(model, tokenizer, prompt, max_tokens=tokens, **kwargs):
        ids.append(response.token)
        tps, stats = response.generation_tps, counter.add(response.from_draft)
    return ids, tps, stats


def measure(backend: MLXBackend, tokens: int) -> SpeculativeResult:
    """Worker thread: a short warm-up of each, then one measured answer alone and one with the draft."""
    from engine.generation.turn import render_prompt

    if getattr(backend, "draft", None) is None:
        raise ModelError("no draft model is loaded (MLX models only)")
    prompt = backend.tokenizer.encode(render_prompt(backend.tokenizer, QUESTION), add_special_tokens=False)
    greedy_run(backend, prompt, 4, draft=False), greedy_run(backend, prompt, 4, draft=True)
    alone, alone_tps, _ = greedy_run(backend, prompt, tokens, draft=False)
    drafted, drafted_tps, stats = greedy_run(backend, prompt, tokens, draft=True)
    return SpeculativeResult(backend.draft.name, backend.draft.num_draft_tokens, len(drafted), alone_tps, drafted_tps,
                             stats.proposed, stats.accepted, alone == drafted)  # fmt: skip
