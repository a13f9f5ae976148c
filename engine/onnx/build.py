"""Run ONNX Runtime GenAI's model builder on a float HF folder, then, for an MLX 4-bit source, put MLX's own
blocks into the int4 weights (affine.py)."""

from __future__ import annotations

from pathlib import Path

from engine.onnx.builder_config import adapt_for_builder
from engine.onnx.options import OnnxExportOptions

LM_HEAD = "/lm_head/MatMul"


def builder_options(options: OnnxExportOptions) -> list[str]:
    """int4: the requested block size; fp32 activations in MatMulNBits (accuracy_level 1) so the check measures
    the weights, not an int8 activation shortcut; the LM head left in float (a 4-bit re-rounded head alone costs
    ~15 points of top-1 agreement on SmolLM2; for an MLX source head.py then puts its own 8-bit codes there)."""
    if options.precision != "int4":
        return []
    return [f"block_size={options.block_size}", "accuracy_level=1", f"nodes_to_exclude={LM_HEAD}"]


def run_builder(hf_folder: Path, out: Path, cache: Path, options: OnnxExportOptions) -> None:
    from onnxruntime_genai.models.builder import create_model, parse_extra_options

    args = ("model", str(hf_folder), str(out), options.precision, "cpu", str(cache))
    extra = parse_extra_options(*args, builder_options(options))
    adapt_for_builder(extra["hf_details"]["hf_config"])
    create_model(*args, **extra)
    drop_repeat_kv_shapes(out / "model.onnx")


def drop_repeat_kv_shapes(model_file: Path) -> None:
    """Forget the shapes the builder declares inside its repeat_kv blocks (the fp16 graph for the CPU, where
    GroupQueryAttention has no fp16 kernel): it labels the past+current keys `sequence_length`, the current
    tokens' length, so ONNX Runtime's planner reuses a one-token buffer for them and the first decode step fails
    with "Shape mismatch attempting to re-use buffer". Without the labels the runtime infers the real shapes."""
    import onnx

    model = onnx.load(str(model_file), load_external_data=False)
    kept = [info for info in model.graph.value_info if "/repeat_kv/" not in info.name]
    if len(kept) == len(model.graph.value_info):
        return
    del model.graph.value_info[:]
    model.graph.value_info.extend(kept)
    onnx.save(model, str(model_file))
