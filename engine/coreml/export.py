"""One export, start to finish: store model -> torch -> trace -> ML program -> compressed package folder.

Runs in whatever process calls it (the CLI and the app use a child process, see `process.py`).
MLX is used only to read (dequantize) the source weights and to cross-check the torch model, on the
calling thread.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from engine.coreml.events import ExportSummary, LayerError, Progress
from engine.coreml.options import ExportError, ExportOptions
from engine.coreml.source import SourceModel

STEPS = {
    "check": ("Checking the model", 0.02),
    "read": ("Reading weights", 0.08),
    "torch": ("Building the PyTorch model", 0.05),
    "compare": ("Comparing PyTorch with MLX", 0.05),
    "convert": ("Tracing and converting to Core ML", 0.30),
    "compress": ("Compressing weights", 0.30),
    "save": ("Writing the package", 0.08),
    "verify": ("Running the saved program", 0.10),
    "finish": ("Writing the manifest", 0.02),
}
AGREEMENT_TOLERANCE = 1e-2
Report = Callable[[Progress], None]


class Steps:
    """Turns 'starting step X' into Progress events with an overall fraction."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._done = 0.0

    def start(self, step: str, detail: str = "") -> None:
        label, _ = STEPS[step]
        self._report(Progress(step, self._done, f"{label}{': ' + detail if detail else ''}"))
        self._done += STEPS[step][1]

    def finish(self) -> None:
        self._report(Progress("done", 1.0, "Done"))


def peak_rss() -> int:
    """Peak resident memory of this process in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def mlx_logits(source: SourceModel, prompt: np.ndarray) -> np.ndarray:
    """The source model's logits from mlx_lm, computed in float32 (exactly dequantized weights): bf16
    arithmetic alone differs by ~1% on a 125M model, which would hide the structural errors this is for."""
    import mlx.core as mx
    import mlx_lm

    from engine.compute_dtype import upcast_to_float32

    model, _ = mlx_lm.load(str(source.info.path))
    upcast_to_float32(model)
    logits = np.array(model(mx.array(prompt))[0].astype(mx.float32))
    del model
    mx.clear_cache()
    return logits


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def torch_predict(wrapper: Any) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """A golden-vector `predict` over the torch wrapper (its cache carries over between calls)."""
    import torch

    from engine.coreml.convert import CAUSAL_MASK, INPUT_IDS

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            ids = torch.from_numpy(inputs[INPUT_IDS])
            mask = torch.from_numpy(inputs[CAUSAL_MASK].astype(np.float32))
            return wrapper(ids, mask).numpy()

    return predict


def program_predict(package: Path) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """A golden-vector `predict` over the saved package, run by the numpy MIL interpreter."""
    from engine.coreml.convert import LOGITS
    from engine.coreml.mil_runtime import MilRuntime

    runtime = MilRuntime.from_package(package)
    state = runtime.make_state()
    return lambda inputs: runtime.predict(inputs, state)[LOGITS]


def program_weight_bytes(mlmodel: Any) -> int:
    """Bytes of every constant in the fp16 program: the size of the uncompressed package's weights."""
    return sum(
        op.outputs[0].val.nbytes
        for op in mlmodel._mil_program.functions["main"].operations
        if op.op_type == "const" and isinstance(op.outputs[0].val, np.ndarray)
    )


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def context_for(source: SourceModel, options: ExportOptions, notes: list[str]) -> int:
    limit = source.info.context_length
    if limit and options.context > limit:
        notes.append(f"Context reduced from {options.context} to the model's maximum of {limit} tokens.")
        return limit
    return options.context


def compression_notes(source: SourceModel, options: ExportOptions, result: Any) -> list[str]:
    notes = []
    if source.quantized and options.mode != "fp16":
        notes.append(
            f"The source weights were already {source.info.bits}-bit (MLX affine); they were dequantized and "
            f"re-compressed, so the package carries two rounding errors stacked, not one."
        )
    for plan in result.adjusted:
        notes.append(
            f"{plan.const}: size {plan.requested} does not divide {plan.shape}; used {plan.size} instead."
        )
    if result.uncompressed:
        notes.append(f"These large weights stayed fp16: {', '.join(result.uncompressed)}.")
    if options.embeddings == "fp16":
        notes.append("The token embedding table was left in fp16 (--embeddings fp16).")
    return notes


def run_export(options: ExportOptions, staging: Path, report: Report) -> ExportSummary:
    """Write a complete export into `staging` (an empty folder); the caller publishes it."""
    from engine.coreml.fit import check_fits
    from engine.coreml.source import export_config, open_source, read_weights

    started = time.perf_counter()
    steps = Steps(report)
    steps.start("check", options.model)
    source = open_source(options.model)
    check_fits(source)

    import torch  # after the checks: a refusal should not wait for torch and coremltools to import

    from engine.coreml import compress as compression
    from engine.coreml import golden, package
    from engine.coreml.convert import convert, trace
    from engine.coreml.ios_readme import readme
    from engine.coreml.torch_model import StatefulCausalLM, build_torch_model, cache_shape

    notes: list[str] = []
    context = context_for(source, options, notes)
    options = ExportOptions(**{**options.__dict__, "context": context})

    steps.start("read", f"{source.parameters / 1e6:.1f}M parameters")
    weights = {name: torch.from_numpy(array) for name, array in read_weights(source).items()}
    steps.start("torch")
    config = export_config(source.config)
    model = build_torch_model(config, weights)
    del weights
    tokenizer = package.write_tokenizer(source, staging)
    prompt = golden.prompt_ids(tokenizer, config["vocab_size"])
    wrapper = StatefulCausalLM(model, context)

    torch_vs_mlx = None
    if options.verify:
        steps.start("compare")
        torch_vs_mlx = relative_difference(torch_predict(wrapper)(golden.step_inputs(prompt, 0))[0], mlx_logits(source, prompt))
        wrapper.reset()
        if torch_vs_mlx > AGREEMENT_TOLERANCE:
            raise ExportError(f"the PyTorch rebuild of {source.info.name} disagrees with MLX (relative error {torch_vs_mlx:.2e})")

    steps.start("convert", f"context {context}")
    mlmodel = convert(trace(wrapper), cache_shape(model.config, context), context)
    fp16_bytes = program_weight_bytes(mlmodel)

    layers: list[LayerError] = []
    if options.mode != "fp16":
        steps.start("compress", f"{options.mode} {options.bits}-bit, group size {options.group_size}")
        result = compression.compress(mlmodel, options, list(model.state_dict()))
        mlmodel = result.model
        layers = [LayerError(w.name, w.shape, w.bits, w.size, w.relative_error) for w in result.weights]
        notes += compression_notes(source, options, result)
        model.load_state_dict({k: torch.from_numpy(v.astype(np.float32)) for k, v in result.restored.items()}, strict=False)

    steps.start("save")
    vectors = golden.record(torch_predict(wrapper), prompt)
    wrapper.reset()
    eos, bos = package.special_tokens(source, tokenizer)
    package.set_metadata(mlmodel, source, options, eos, bos)
    package_name = f"{source.info.name.split('/')[-1]}.mlpackage"
    mlmodel.save(str(staging / package_name))
    del mlmodel
    package.write_golden(staging, vectors)
    package.write_json(staging / "config.json", config)

    agreement = None
    if options.verify:
        steps.start("verify")
        agreement = golden.replay(program_predict(staging / package_name), vectors)
        if not agreement.within(AGREEMENT_TOLERANCE):
            raise ExportError(
                f"the saved program disagrees with the reference (relative error {agreement.relative_error:.2e}, "
                f"same next token: {agreement.same_top_token})"
            )

    steps.start("finish")
    summary = ExportSummary(
        out=str(options.out),
        package=package_name,
        source_model=source.info.name,
        architecture=source.info.model_type,
        parameters=source.parameters,
        mode=options.mode,
        bits=options.bits,
        group_size=options.recipe["group_size"],
        context=context,
        source_bytes=source.info.weight_bytes,
        fp16_bytes=fp16_bytes,
        package_bytes=folder_bytes(staging / package_name),
        seconds=time.perf_counter() - started,
        peak_memory=peak_rss(),
        layers=layers,
        notes=notes,
        torch_vs_mlx=torch_vs_mlx,
        program_vs_torch=agreement.relative_error if agreement else None,
        program_top_token_matches=agreement.same_top_token if agreement else None,
    )
    (staging / "README.md").write_text(readme(summary, config["vocab_size"], cache_shape(model.config, context), eos))
    package.write_manifest(staging, manifest_body(summary, options, source, cache_shape(model.config, context), eos, bos, config))
    steps.finish()
    return summary


def manifest_body(
    summary: ExportSummary, options: ExportOptions, source: SourceModel, shape: tuple[int, ...], eos: list[int], bos: list[int], config: dict
) -> dict:
    from dataclasses import asdict

    from engine.coreml import golden, package

    return {
        "package": summary.package,
        "source": {
            "model": source.info.name,
            "architecture": source.info.model_type,
            "parameters": source.parameters,
            "bits": source.info.bits,
            "bytes": source.info.weight_bytes,
        },
        "recipe": options.recipe,
        "interface": package.interface(shape, summary.context, config["vocab_size"]),
        "tokens": {"eos": eos, "bos": bos},
        "sizes": {"fp16_weights": summary.fp16_bytes, "package": summary.package_bytes},
        "golden": {
            "file": package.GOLDEN_FILE,
            "steps": ["prefill"] + [f"decode{i}" for i in range(golden.DECODE_STEPS)],
            "reference": "PyTorch (fp32) with the package's decompressed weights",
            "tolerance": {"relative_error": AGREEMENT_TOLERANCE, "same_next_token": True},
        },
        "checks": {
            "torch_vs_mlx": summary.torch_vs_mlx,
            "program_vs_torch": summary.program_vs_torch,
            "program_top_token_matches": summary.program_top_token_matches,
        },
        "weights": [asdict(layer) for layer in summary.layers],
        "notes": summary.notes,
    }
