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

from engine.coreml.events import ExportSummary, LayerError
from engine.coreml.options import ExportError, ExportOptions
from engine.coreml.source import SourceModel
from engine.jobs import JobProgress, Report

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


class Steps:
    """Turns 'starting step X' into JobProgress events with an overall fraction."""

    def __init__(self, report: Report) -> None:
        self._report = report
        self._done = 0.0
        self._current: tuple[str, float] | None = None
        self.seconds: dict[str, float] = {}
        """How long each step took, for the summary and the benchmark."""

    def start(self, step: str, detail: str = "") -> None:
        self._close()
        label, _ = STEPS[step]
        self._report(JobProgress(step, self._done, f"{label}{': ' + detail if detail else ''}"))
        self._done += STEPS[step][1]
        self._current = (step, time.perf_counter())

    def finish(self) -> None:
        self._close()
        self._report(JobProgress("done", 1.0, "Done"))

    def _close(self) -> None:
        if self._current:
            step, began = self._current
            self.seconds[step] = time.perf_counter() - began


def peak_rss() -> int:
    """Peak resident memory of this process in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def mlx_logits(source: SourceModel, *prompts: np.ndarray) -> list[np.ndarray]:
    """The source model's logits for each prompt from mlx_lm, computed in float32 (exactly dequantized
    weights): bf16 arithmetic alone differs by ~1% on a 125M model, which would hide the structural
    errors this is for."""
    import mlx.core as mx
    import mlx_lm

    from engine.compute_dtype import upcast_to_float32

    model, _ = mlx_lm.load(str(source.info.path))
    upcast_to_float32(model)
    logits = [np.array(model(mx.array(prompt)).astype(mx.float32)) for prompt in prompts]
    del model
    mx.clear_cache()
    return logits


def torch_predict(wrapper: Any) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """A golden-vector `predict` over the torch wrapper (its cache carries over between calls)."""
    import torch

    from engine.coreml.convert import INPUT_IDS

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        with torch.no_grad():
            tensors = {name: torch.from_numpy(value if name == INPUT_IDS else value.astype(np.float32))
                       for name, value in inputs.items()}  # fmt: skip
            return wrapper(**tensors).numpy()

    return predict


def program_predict(package: Path | Any) -> Callable[[dict[str, np.ndarray]], np.ndarray]:
    """A golden-vector `predict` over the saved package (or an already loaded `MilRuntime` of it),
    run by the numpy MIL interpreter, with a fresh state."""
    from engine.coreml.convert import LOGITS
    from engine.coreml.mil_runtime import MilRuntime

    runtime = MilRuntime.from_package(package) if isinstance(package, Path) else package
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


def affine_settings(source: SourceModel, options: ExportOptions) -> dict:
    """Affine mode takes its bits and group size from the source's MLX quantization."""
    from engine.coreml.source import layer_quantization

    if options.mode != "affine":
        return {}
    if not source.quantized:
        raise ExportError(f"affine mode keeps an MLX model's own quantization, and {source.info.name} is not quantized")
    group_size, bits = layer_quantization(source.config, "")
    if bits not in (4, 8):
        raise ExportError(f"affine mode supports 4- and 8-bit MLX models; {source.info.name} is {bits}-bit")
    return {"bits": bits, "group_size": group_size}


def compression_notes(source: SourceModel, options: ExportOptions, result: Any) -> list[str]:
    notes = []
    if source.quantized and options.mode in ("palettize", "linear"):
        notes.append(
            f"The source weights were already {source.info.bits}-bit (MLX affine); they were dequantized and "
            f"re-compressed, so the package carries two rounding errors stacked, not one "
            f"(--mode affine keeps MLX's own quantization instead)."
        )
    if options.mode == "affine":
        notes.append(
            f"Kept the source's own MLX {options.bits}-bit quantization (groups of {options.group_size}); "
            f"the remaining error is fp16 rounding of scales and offsets."
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
    return Export(options, staging, report).run()


class Export:
    """One export's working state, one method per step."""

    def __init__(self, options: ExportOptions, staging: Path, report: Report) -> None:
        self.options, self.staging = options, staging
        self.steps = Steps(report)
        self.started = time.perf_counter()
        self.notes: list[str] = []
        self.layers: list[LayerError] = []
        self.torch_vs_mlx: float | None = None
        self.agreement: Any = None
        self.fidelity: Any = None

    def run(self) -> ExportSummary:
        self.check()
        self.build()
        if self.options.verify:
            self.compare_with_mlx()
        self.convert()
        if self.options.mode != "fp16":
            self.compress()
        self.save()
        if self.options.verify:
            self.verify()
        return self.finish()

    def check(self) -> None:
        from engine.coreml.fit import check_fits
        from engine.coreml.source import open_source

        self.steps.start("check", self.options.model)
        self.source = open_source(self.options.model)
        check_fits(self.source)
        context = context_for(self.source, self.options, self.notes)
        self.options = ExportOptions(**{**self.options.__dict__, "context": context, **affine_settings(self.source, self.options)})

    def build(self) -> None:
        """The torch model and its stateful wrapper; the tokenizer files; the golden prompt."""
        import torch  # after the checks: a refusal should not wait for torch and coremltools to import

        from engine.coreml import fidelity, golden, package
        from engine.coreml.source import export_config, read_weights
        from engine.coreml.torch_model import StatefulCausalLM, build_torch_model, cache_shape

        self.steps.start("read", f"{self.source.parameters / 1e6:.1f}M parameters")
        weights = {name: torch.from_numpy(array) for name, array in read_weights(self.source).items()}
        self.steps.start("torch")
        self.config = export_config(self.source.config)
        self.model = build_torch_model(self.config, weights)
        del weights
        self.cache_shape = cache_shape(self.model.config, self.options.context)
        self.wrapper = StatefulCausalLM(self.model, self.options.context)
        self.tokenizer = package.write_tokenizer(self.source, self.staging)
        self.prompt = golden.prompt_ids(self.tokenizer, self.config["vocab_size"])
        self.text = fidelity.text_ids(self.tokenizer, self.config["vocab_size"], self.options.context)

    def compare_with_mlx(self) -> None:
        from engine.coreml import golden

        self.steps.start("compare")
        logits = torch_predict(self.wrapper)(golden.step_inputs(self.prompt, 0, self.wrapper.window))[0]
        self.wrapper.reset()
        reference, self.text_reference = mlx_logits(self.source, self.prompt, self.text)
        self.torch_vs_mlx = golden.relative_difference(logits, reference[0])
        if self.torch_vs_mlx > AGREEMENT_TOLERANCE:
            raise ExportError(
                f"the PyTorch rebuild of {self.source.info.name} disagrees with MLX "
                f"(relative error {self.torch_vs_mlx:.2e})"
            )

    def convert(self) -> None:
        from engine.coreml.convert import convert, trace

        self.steps.start("convert", f"context {self.options.context}")
        self.mlmodel = convert(trace(self.wrapper), self.cache_shape, self.options.context, self.wrapper.window)
        self.fp16_bytes = program_weight_bytes(self.mlmodel)

    def compress(self) -> None:
        """Compress, and give the torch reference the weights exactly as the device will decompress them."""
        import torch

        from engine.coreml.affine import read_affine_weights
        from engine.coreml.compress import compress

        options = self.options
        self.steps.start("compress", f"{options.mode} {options.bits}-bit, group size {options.group_size}")
        affine = read_affine_weights(self.source) if options.mode == "affine" else None
        result = compress(self.mlmodel, options, list(self.model.state_dict()), affine)
        self.mlmodel, self.layers = result.model, result.weights
        self.notes += compression_notes(self.source, options, result)
        restored = {name: torch.from_numpy(w.astype(np.float32)) for name, w in result.restored.items()}
        self.model.load_state_dict(restored, strict=False)

    def save(self) -> None:
        from engine.coreml import golden, package

        self.steps.start("save")
        self.vectors = golden.record(torch_predict(self.wrapper), self.prompt, self.wrapper.window)
        self.wrapper.reset()
        self.eos, self.bos = package.special_tokens(self.source, self.tokenizer)
        package.set_metadata(self.mlmodel, self.source, self.options, self.eos, self.bos, self.wrapper.window)
        self.package_name = f"{self.source.info.name.split('/')[-1]}.mlpackage"
        self.mlmodel.save(str(self.staging / self.package_name))
        del self.mlmodel
        package.write_golden(self.staging, self.vectors)
        package.write_json(self.staging / "config.json", self.config)

    def verify(self) -> None:
        """Replay the golden vectors through the saved program (a hard check), then measure its quality."""
        from engine.coreml import fidelity, golden
        from engine.coreml.mil_runtime import MilRuntime

        self.steps.start("verify")
        runtime = MilRuntime.from_package(self.staging / self.package_name)
        self.agreement = golden.replay(program_predict(runtime), self.vectors)
        text_logits = program_predict(runtime)(golden.step_inputs(self.text, 0, self.wrapper.window))
        self.fidelity = fidelity.measure(text_logits, self.text_reference, self.text)
        if not self.agreement.within(AGREEMENT_TOLERANCE):
            raise ExportError(
                f"the saved program disagrees with the reference (relative error "
                f"{self.agreement.relative_error:.2e}, same next token: {self.agreement.same_top_token})"
            )

    def finish(self) -> ExportSummary:
        from engine.coreml import package
        from engine.coreml.ios_readme import readme
        from engine.coreml.swift_package import write_swift_package

        self.steps.start("finish")
        write_swift_package(self.staging, self.package_name, self.options.context, self.eos, self.wrapper.window)
        (self.staging / "README.md").write_text(readme(self.summary(), self.config["vocab_size"], self.cache_shape, self.eos))
        package.write_manifest(self.staging, manifest_body(self.summary(), self))
        self.steps.finish()
        return self.summary()

    def summary(self) -> ExportSummary:
        source, options = self.source, self.options
        return ExportSummary(
            out=str(options.out),
            package=self.package_name,
            source_model=source.info.name,
            architecture=source.info.model_type,
            parameters=source.parameters,
            mode=options.mode,
            bits=options.bits,
            group_size=options.recipe["group_size"],
            context=options.context,
            source_bytes=source.info.weight_bytes,
            fp16_bytes=self.fp16_bytes,
            package_bytes=folder_bytes(self.staging / self.package_name),
            seconds=time.perf_counter() - self.started,
            step_seconds=dict(self.steps.seconds),
            peak_memory=peak_rss(),
            layers=self.layers,
            notes=self.notes,
            torch_vs_mlx=self.torch_vs_mlx,
            program_vs_torch=self.agreement.relative_error if self.agreement else None,
            program_top_token_matches=self.agreement.same_top_token if self.agreement else None,
            fidelity=self.fidelity,
        )


def manifest_body(summary: ExportSummary, export: Export) -> dict:
    from dataclasses import asdict

    from engine.coreml import golden, package

    source, shape = export.source, export.cache_shape
    return {
        "package": summary.package,
        "source": {
            "model": source.info.name,
            "architecture": source.info.model_type,
            "parameters": source.parameters,
            "bits": source.info.bits,
            "bytes": source.info.weight_bytes,
        },
        "recipe": export.options.recipe,
        "interface": package.interface(shape, summary.context, export.config["vocab_size"], export.wrapper.window),
        "tokens": {"eos": export.eos, "bos": export.bos},
        "sizes": {"fp16_weights": summary.fp16_bytes, "package": summary.package_bytes},
        "golden": {
            "file": package.GOLDEN_FILE,
            "steps": golden.STEPS,
            "reference": "PyTorch (fp32) with the package's decompressed weights",
            "tolerance": {"relative_error": AGREEMENT_TOLERANCE, "same_next_token": True},
        },
        "checks": {
            "torch_vs_mlx": summary.torch_vs_mlx,
            "program_vs_torch": summary.program_vs_torch,
            "program_top_token_matches": summary.program_top_token_matches,
            "fidelity": fidelity_body(summary.fidelity),
        },
        "weights": [asdict(layer) for layer in summary.layers],
        "notes": summary.notes,
    }


def fidelity_body(result: Any) -> dict | None:
    """The quality figures for the manifest: what was measured, against what, and the numbers."""
    from dataclasses import asdict

    from engine.coreml.fidelity import FIDELITY_TEXT

    if result is None:
        return None
    return {
        **asdict(result),
        "text": FIDELITY_TEXT,
        "method": "one prefill of the text; the saved program run by the numpy MIL interpreter (fp16) "
        "against the source model in MLX float32; teacher-forced top-1 agreement and perplexity",
        "costs_accuracy": result.costs_accuracy,
    }
