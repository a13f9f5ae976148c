"""Speculative decoding on the real SmolLM2-135M-Instruct: the model dequantized to float32 (mlx_lm's convert, the
target) drafted by its own 4-bit import (Cabin's GGUF importer), with Cabin's engine and with raw mlx_lm in the same run.

For 2 and 4 draft tokens: the same greedy answer (a chat question, EOS allowed) decoded by raw mlx_lm's
`stream_generate` with and without `draft_model`, and by Cabin's engine with and without the draft (fresh
conversations, so each prefills the whole prompt). Printed: decode tok/s, the draft's acceptance (accepted / proposed,
from mlx_lm's `from_draft`), the speedup of each against the same model without the draft, Cabin's tok/s as a share of
raw mlx_lm's, and whether every run generated the same tokens. Each figure is the median of REPEATS runs, in
alternation so that a busy machine slows all of them alike.

The draft runs as Cabin runs it: on this CPU the 4-bit draft is upcast to float32 at load (MLX's 4-bit matmuls are
slow on its CPU backend), so it reads as many bytes per token as the target; on a Mac's GPU it stays 4-bit, about a
seventh of the float32 target's bytes.

    .venv/bin/python bench/speculative.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.generation import Engine, SamplingSettings  # noqa: E402 — engine first: it switches MLX to OpenBLAS

from bench.smollm2 import dequantized_model, smollm2_model  # noqa: E402
from engine.bench_speculative import QUESTION, greedy_run  # noqa: E402
from engine.generation.turn import render_prompt  # noqa: E402
from engine.models.store import model_key  # noqa: E402
from engine.speculative import DraftChoice  # noqa: E402

TOKENS = 48
REPEATS = 2
DRAFT_TOKENS = (2, 4)


def raw_runs(backend: Any) -> dict[str, Any]:
    """Worker thread: raw mlx_lm with and without the draft, REPEATS times each, alternating."""
    prompt = backend.tokenizer.encode(render_prompt(backend.tokenizer, QUESTION), add_special_tokens=False)
    greedy_run(backend, prompt, 4, draft=False), greedy_run(backend, prompt, 4, draft=True)
    alone, drafted = [], []
    for _ in range(REPEATS):
        alone.append(greedy_run(backend, prompt, TOKENS, draft=False))
        drafted.append(greedy_run(backend, prompt, TOKENS, draft=True))
    return {"alone": alone, "drafted": drafted}


def engine_answer(engine: Engine, run: int) -> Any:
    """Cabin's greedy answer in a new conversation (the whole prompt prefilled)."""
    greedy = SamplingSettings(temperature=0.0, max_tokens=TOKENS)
    return engine.chat(QUESTION, greedy, conversation_id=f"run-{run}").result()


def median_tps(values: list[float]) -> float:
    return statistics.median(values)


def measure(target: Path, draft: Path, num_draft_tokens: int, alone_engine: Engine) -> None:
    engine = Engine()
    engine.drafts[model_key(target)] = DraftChoice(str(draft), num_draft_tokens)
    try:
        engine.load(target).result()
        raw = engine.run_with_backend(raw_runs).result()
        cabin_alone, cabin_drafted = [], []
        for run in range(REPEATS):
            cabin_alone.append(engine_answer(alone_engine, num_draft_tokens * 100 + run))
            cabin_drafted.append(engine_answer(engine, run))
    finally:
        engine.shutdown()
    report(num_draft_tokens, raw, cabin_alone, cabin_drafted)


def report(k: int, raw: dict[str, Any], cabin_alone: list[Any], cabin_drafted: list[Any]) -> None:
    raw_alone = median_tps([tps for _, tps, _ in raw["alone"]])
    raw_drafted = median_tps([tps for _, tps, _ in raw["drafted"]])
    raw_stats = raw["drafted"][-1][2]
    c_alone = median_tps([f.stats.generation_tps for f in cabin_alone])
    c_drafted = median_tps([f.stats.generation_tps for f in cabin_drafted])
    c_stats = cabin_drafted[-1].stats.draft
    tokens = {tuple(ids) for ids, _, _ in raw["alone"] + raw["drafted"]}
    tokens |= {f.token_ids for f in cabin_alone + cabin_drafted}
    print(f"num_draft_tokens={k}: {len(cabin_drafted[-1].token_ids)} tokens, all runs the same tokens: {len(tokens) == 1}")
    print(f"  raw mlx_lm: alone {raw_alone:6.2f} tok/s, with draft {raw_drafted:6.2f} tok/s = {raw_drafted / raw_alone:.2f}×; "
          f"accepted {raw_stats.accepted}/{raw_stats.proposed} ({raw_stats.acceptance:.0%})")
    print(f"  Cabin:      alone {c_alone:6.2f} tok/s, with draft {c_drafted:6.2f} tok/s = {c_drafted / c_alone:.2f}×; "
          f"accepted {c_stats.accepted}/{c_stats.proposed} ({c_stats.acceptance:.0%}); "
          f"speedup shown in the stats {c_stats.speedup(cabin_drafted[-1].stats.generation_tps):.2f}×")
    print(f"  Cabin / raw: alone {c_alone / raw_alone:.2f}×, with draft {c_drafted / raw_drafted:.2f}×", flush=True)


def main() -> None:
    draft = smollm2_model()
    target = dequantized_model(draft)
    alone = Engine()
    try:
        alone.load(target).result()
        for k in DRAFT_TOKENS:
            measure(target, draft, k, alone)
    finally:
        alone.shutdown()


if __name__ == "__main__":
    main()
