"""ONNX export of the real SmolLM2-135M-Instruct: time, peak memory, size, checks per precision; then decode
tok/s of ONNX Runtime GenAI (CPU) on each export beside Cabin's own engines (MLX on the imported folder,
llama.cpp on the GGUF), same prompt, same run.

Each export runs through `start_onnx_export` (a spawned child job, as the CLI runs it), so the peak memory is
the export's own. tg128: 128 greedy tokens after a short prompt, timed from the first token to the last as the
caller sees them (for Cabin: the engine's Token events on this thread; for ORT GenAI: the generator loop).
ORT GenAI gets min_length so that it does not stop at EOS before 128 tokens.

Measured 2026-12-04 on the shared 2-core machine (load average ~3.5), context 512:
    export   time  peak mem     size  greedy=MLX  agreement  ppl (MLX 23.71)  ORT GenAI tg128
    int4    21.1 s   1.8 GB  147.4 MB      32/32      98.3%  23.92                53.0 tok/s
    fp32    17.6 s   1.3 GB  516.8 MB      32/32     100.0%  23.71                26.8 tok/s
    Cabin MLX engine (MLX 4-bit folder, CPU): 11.0 tok/s; Cabin llama.cpp engine (Q4_1 GGUF): 58.3 tok/s.
int4 keeps MLX's own 4-bit layer blocks and 8-bit head/embeddings (engine/onnx/affine.py, head.py); the builder's
own int4 (symmetric re-rounding of the dequantized weights) measured 58% agreement, ppl 34.2, at ~103 tok/s.

    .venv/bin/python bench/onnx_export.py [--precisions int4,fp16,fp32] [--context 512] [--repeat 2]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smollm2 import imported_model, installed_gguf  # noqa: E402
from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.generation.events import Token  # noqa: E402
from engine.memory import format_bytes  # noqa: E402

STORY = "Here is a long story about a lighthouse keeper who finds a map.\n\nOnce upon a time,"
TOKENS = 128


def export(model: Path, out: Path, precision: str, context: int):
    from engine.jobs import JobFinished
    from engine.onnx.options import OnnxExportOptions
    from engine.onnx.process import start_onnx_export

    result = start_onnx_export(OnnxExportOptions(model=str(model), out=out, precision=precision, context=context)).wait()
    if not isinstance(result, JobFinished):
        raise SystemExit(f"{precision}: {result.message}")
    return result.result


def ort_tg(folder: Path) -> float:
    import onnxruntime_genai as og

    model = og.Model(str(folder))
    prompt = og.Tokenizer(model).encode(STORY)
    params = og.GeneratorParams(model)
    params.set_search_options(do_sample=False, max_length=len(prompt) + TOKENS, min_length=len(prompt) + TOKENS)
    generator = og.Generator(model, params)
    generator.append_tokens(prompt)
    times = []
    while not generator.is_done() and len(times) < TOKENS:
        generator.generate_next_token()
        times.append(time.perf_counter())
    return (len(times) - 1) / (times[-1] - times[0])


def cabin_tg(model: Path, repeat: int) -> float:
    engine = Engine()
    engine.load(model).result()
    rates = []
    for i in range(repeat + 1):  # the first run warms up
        generation = engine.complete(STORY, SamplingSettings(temperature=0, max_tokens=TOKENS), f"tg-{i}")
        times = [time.perf_counter() for event in generation if isinstance(event, Token)]
        rates.append((len(times) - 1) / (times[-1] - times[0]))
    engine.shutdown()
    return statistics.median(rates[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precisions", default="int4,fp16,fp32")
    parser.add_argument("--context", type=int, default=512)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    gguf = installed_gguf()
    model = imported_model(gguf)
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for precision in args.precisions.split(","):
            summary = export(model, Path(tmp) / precision, precision, args.context)
            ort_tg(Path(tmp) / precision)  # warm-up
            tps = statistics.median(ort_tg(Path(tmp) / precision) for _ in range(args.repeat))
            rows.append((precision, summary, tps))
        mlx_tps, llama_tps = cabin_tg(model, args.repeat), cabin_tg(gguf, args.repeat)

    print(f"model: {model.name} ({rows[0][1].parameters / 1e6:.1f}M), context {args.context}, source "
          f"{format_bytes(rows[0][1].source_bytes)}, tg{TOKENS} median of {args.repeat}")  # fmt: skip
    print(f"{'export':<10}{'time':>8}{'peak mem':>10}{'size':>10}{'greedy=MLX':>12}{'agreement':>11}{'ppl':>7}"
          f"{'MLX ppl':>9}{'tg tok/s':>10}")  # fmt: skip
    for precision, s, tps in rows:
        f = s.fidelity
        print(f"{precision:<10}{s.seconds:>7.1f}s{format_bytes(s.peak_memory):>10}{format_bytes(s.export_bytes):>10}"
              f"{f'{s.greedy_same_prefix}/{s.greedy_tokens}':>12}{f.agreement:>11.1%}{f.perplexity:>7.2f}"
              f"{f.reference_perplexity:>9.2f}{tps:>10.1f}")  # fmt: skip
    print(f"Cabin MLX engine (MLX 4-bit folder): tg{TOKENS} {mlx_tps:.1f} tok/s")
    print(f"Cabin llama.cpp engine (Q4_1 GGUF):  tg{TOKENS} {llama_tps:.1f} tok/s")


if __name__ == "__main__":
    main()
