"""One export, start to finish: store model -> torch -> trace -> ML program -> compressed package folder.

Runs in whatever process calls it (the CLI and the app use a child process, see `process.py`).
MLX is used only to read (dequantize) the source weights and to cross-check the torch model, on the
calling thread.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.coreml.checks import affine_settings, check_program, compare_torch_with_mlx, context_for, torch_predict
from engine.coreml.events import ExportSummary, LayerError
from engine.coreml.manifest import compression_notes, folder_bytes, manifest_body, peak_rss, program_weight_bytes
from engine.coreml.options import ExportOptions
from engine.coreml.steps import Steps
from engine.jobs import Report


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
        self.steps.start("compare")
        self.torch_vs_mlx, self.text_reference = compare_torch_with_mlx(self.wrapper, self.source, self.prompt,
                                                                        self.text)  # fmt: skip

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
        self.steps.start("verify")
        self.agreement, self.fidelity = check_program(self.staging / self.package_name, self.vectors, self.text,
                                                      self.text_reference, self.wrapper.window)  # fmt: skip

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

