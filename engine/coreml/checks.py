"""What an export checks: the options against the source model before any work, then its results against
references (the torch rebuild against MLX, the saved program against the torch model and the source's quality)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.coreml.fidelity import Fidelity
from engine.coreml.options import ExportError, ExportOptions
from engine.coreml.source import SourceModel

if TYPE_CHECKING:
    from engine.coreml.golden import Agreement  # golden imports torch: only when a check runs

AGREEMENT_TOLERANCE = 1e-2


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


def compare_torch_with_mlx(
    wrapper: Any, source: SourceModel, prompt: np.ndarray, text: np.ndarray
) -> tuple[float, np.ndarray]:
    """The torch rebuild's relative difference from MLX on the golden prompt (refused beyond the tolerance),
    and MLX's logits over the fidelity text: the reference the saved program's quality is measured against."""
    from engine.coreml import golden

    logits = torch_predict(wrapper)(golden.step_inputs(prompt, 0, wrapper.window))[0]
    wrapper.reset()
    reference, text_reference = mlx_logits(source, prompt, text)
    difference = golden.relative_difference(logits, reference[0])
    if difference > AGREEMENT_TOLERANCE:
        raise ExportError(
            f"the PyTorch rebuild of {source.info.name} disagrees with MLX (relative error {difference:.2e})"
        )
    return difference, text_reference


def check_program(
    package: Path, vectors: dict[str, np.ndarray], text: np.ndarray, text_reference: np.ndarray, window: int | None
) -> tuple[Agreement, Fidelity]:
    """Replay the golden vectors through the saved program (a hard check), then measure its quality."""
    from engine.coreml import fidelity, golden
    from engine.coreml.mil_runtime import MilRuntime

    runtime = MilRuntime.from_package(package)
    agreement = golden.replay(program_predict(runtime), vectors)
    text_logits = program_predict(runtime)(golden.step_inputs(text, 0, window))
    quality = fidelity.measure(text_logits, text_reference, text)
    if not agreement.within(AGREEMENT_TOLERANCE):
        raise ExportError(
            f"the saved program disagrees with the reference (relative error "
            f"{agreement.relative_error:.2e}, same next token: {agreement.same_top_token})"
        )
    return agreement, quality
