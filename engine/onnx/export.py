"""One ONNX export, start to finish: store model -> float HF folder -> builder -> MLX's own int4 blocks -> check.

Runs in whatever process calls it (the CLI uses a child process, see `process.py`). The float HF folder
and the builder's cache live in a scratch folder inside the staging folder and are removed before it is
published.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.coreml.fidelity import Fidelity
from engine.coreml.manifest import folder_bytes, peak_rss
from engine.coreml.steps import Steps
from engine.jobs import Report
from engine.onnx.options import OnnxExportOptions, check_runnable

STEPS = {
    "check": ("Checking the model", 0.02),
    "read": ("Writing float weights for the builder", 0.15),
    "build": ("Building the ONNX model", 0.35),
    "map": ("Keeping MLX's own 4-bit blocks", 0.15),
    "verify": ("Running it with ONNX Runtime GenAI", 0.30),
    "finish": ("Writing the manifest", 0.03),
}
SCRATCH = ".build"


@dataclass(frozen=True)
class OnnxExportSummary:
    """The result of a finished ONNX export, shown by the CLI and recorded in the manifest."""

    out: str
    source_model: str
    architecture: str
    parameters: int
    precision: str
    block_size: int | None
    context: int
    source_bytes: int
    export_bytes: int
    seconds: float
    peak_memory: int
    step_seconds: dict[str, float] = field(default_factory=dict)
    mapped_layers: int = 0
    requantized_layers: list[str] = field(default_factory=list)
    greedy_tokens: int | None = None
    greedy_same_prefix: int | None = None
    fidelity: Fidelity | None = None
    notes: list[str] = field(default_factory=list)


def run_export(options: OnnxExportOptions, staging: Path, report: Report) -> OnnxExportSummary:
    """Write a complete export into `staging` (an empty folder); the caller publishes it."""
    return OnnxExport(options, staging, report).run()


class OnnxExport:
    """One export's working state, one method per step."""

    def __init__(self, options: OnnxExportOptions, staging: Path, report: Report) -> None:
        self.options, self.staging, self.scratch = options, staging, staging / SCRATCH
        self.steps = Steps(report, STEPS)
        self.started = time.perf_counter()
        self.notes: list[str] = []
        self.mapped, self.requantized = 0, []
        self.greedy = self.fidelity = None

    def run(self) -> OnnxExportSummary:
        self.check()
        self.write_float()
        self.build()
        if self.options.precision == "int4" and self.source.quantized:
            self.map_affine()
        if self.options.verify:
            self.verify()
        return self.finish()

    def check(self) -> None:
        from dataclasses import replace

        from engine.coreml.fit import check_fits
        from engine.coreml.source import open_source

        self.steps.start("check", self.options.model)
        self.source = open_source(self.options.model, "ONNX export")
        check_runnable(self.source.info.model_type, self.options.precision)
        check_fits(self.source)
        limit = self.source.info.context_length
        if limit and self.options.context > limit:
            self.notes.append(f"Context reduced from {self.options.context} to the model's maximum of {limit}.")
            self.options = replace(self.options, context=limit)

    def write_float(self) -> None:
        from engine.onnx.hf_folder import write_hf_folder

        self.steps.start("read", f"{self.source.parameters / 1e6:.1f}M parameters")
        write_hf_folder(self.source, self.scratch / "hf", self.options.context)
        if self.source.quantized:
            self.notes.append(f"The source is MLX {self.source.info.bits}-bit; its weights were dequantized to "
                              f"float32 for the builder.")  # fmt: skip

    def build(self) -> None:
        from engine.onnx.build import run_builder

        self.steps.start("build", f"{self.options.precision}, context {self.options.context}")
        run_builder(self.scratch / "hf", self.staging, self.scratch / "cache", self.options)
        shutil.rmtree(self.scratch)

    def map_affine(self) -> None:
        from engine.coreml.affine import read_affine_weights
        from engine.onnx.affine import map_affine

        self.steps.start("map")
        self.mapped, self.requantized = map_affine(self.staging, read_affine_weights(self.source))
        self.notes.append(f"{self.mapped} weights hold MLX's own quantized blocks (4-bit layers; the head and the "
                          f"embeddings at the source's bits), with an exact per-block offset: no second rounding.")  # fmt: skip
        if self.requantized:
            self.notes.append(f"Re-quantized by the builder (source not 4-bit in blocks of {self.options.block_size}): "
                              f"{', '.join(self.requantized)}.")  # fmt: skip

    def verify(self) -> None:
        from engine.coreml import fidelity, golden
        from engine.onnx.check import check_export, mlx_reference

        self.steps.start("verify")
        tokenizer = self.tokenizer()
        vocab = self.source.config["vocab_size"]
        prompt = golden.prompt_ids(tokenizer, vocab)[0].tolist()
        text = fidelity.text_ids(tokenizer, vocab, self.options.context - 1)
        reference = mlx_reference(self.source.info.path, prompt, text)
        self.greedy, self.fidelity = check_export(self.staging, reference, self.options.precision)

    def tokenizer(self) -> object:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.staging))

    def finish(self) -> OnnxExportSummary:
        from engine.onnx.manifest import write_manifest
        from engine.onnx.readme import readme

        self.steps.start("finish")
        (self.staging / "README.md").write_text(readme(self.summary()))
        write_manifest(self.staging, self.summary())
        self.steps.finish()
        return self.summary()

    def summary(self) -> OnnxExportSummary:
        source, options = self.source, self.options
        return OnnxExportSummary(
            out=str(options.out),
            source_model=source.info.name,
            architecture=source.info.model_type,
            parameters=source.parameters,
            precision=options.precision,
            block_size=options.recipe["block_size"],
            context=options.context,
            source_bytes=source.info.weight_bytes,
            export_bytes=folder_bytes(self.staging),
            seconds=time.perf_counter() - self.started,
            peak_memory=peak_rss(),
            step_seconds=dict(self.steps.seconds),
            mapped_layers=self.mapped,
            requantized_layers=list(self.requantized),
            greedy_tokens=len(self.greedy.tokens) if self.greedy else None,
            greedy_same_prefix=self.greedy.same_prefix if self.greedy else None,
            fidelity=self.fidelity,
            notes=list(self.notes),
        )
