"""Run a saved Core ML ML program numerically with numpy, on any platform.

Linux has no Core ML runtime, but coremltools can read a saved .mlpackage back into a MIL program,
and nearly every MIL op implements `value_inference()`. This interpreter walks the program in order,
hands each op its inputs' values and asks the op for its outputs; the few ops without a usable
`value_inference` (state reads and writes, silu, the shape of a flexible input, constexpr
decompression) are implemented here. States are numpy arrays carried from one call to the next,
as an `MLState` is, so prefill followed by decode exercises the same graph and state logic the
device will run. It is a checking tool: slow, but exact to the program's fp16 arithmetic.

Precision follows the device: every op's result is rounded to its declared dtype (fp16 in an fp16
program), so an intermediate that overflows fp16 on a GPU or the Neural Engine is inf here too.
Matrix products take fp16 operands, accumulate in float32 and round the result to fp16, as Apple's
GPU and Neural Engine kernels do (and float32 BLAS is what keeps a 60-token run of a 135M model
to seconds instead of minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


class _Value:
    """What a MIL Var expects in its `_sym_val` slot: an object with `.val`."""

    __slots__ = ("val",)

    def __init__(self, val: Any) -> None:
        self.val = val


def load_program(package: Path) -> Any:
    """The MIL program of a saved .mlpackage (no Core ML runtime needed)."""
    import coremltools as ct
    from coremltools.converters.mil.frontend.milproto import load as milproto

    model = ct.models.MLModel(str(package), skip_model_load=True)
    spec = model.get_spec()
    return milproto.load(spec, spec.specificationVersion, model.weights_dir)


def _silu(op: Any, values: dict[str, Any]) -> np.ndarray:
    x = values[op.x.name]
    return (x / (1 + np.exp(-x.astype(np.float32)))).astype(x.dtype)


def _shape(op: Any, values: dict[str, Any]) -> np.ndarray:
    return np.array(values[op.x.name].shape, dtype=np.int32)


def _wide(value: np.ndarray) -> np.ndarray:
    return value if value.dtype == np.float32 else value.astype(np.float32)


def _matmul(op: Any, values: dict[str, Any]) -> np.ndarray:
    x, y = _wide(values[op.x.name]), _wide(values[op.y.name])
    if op.transpose_x.val:
        x = np.swapaxes(x, -1, -2)
    if op.transpose_y.val:
        y = np.swapaxes(y, -1, -2)
    return np.matmul(x, y)


class MilRuntime:
    """prediction-like calls on a MIL program: `predict(inputs, state) -> outputs`, state updated in place."""

    def __init__(self, program: Any, function: str = "main") -> None:
        self.function = program.functions[function]
        self._constants: dict[str, Any] = {}
        self._wide_weights: dict[str, np.ndarray] = {}
        self._special: dict[str, Callable[[Any, dict[str, Any]], Any]] = {
            "silu": _silu,
            "shape": _shape,
            "matmul": _matmul,
            "linear": self._linear,
        }

    @classmethod
    def from_package(cls, package: Path) -> MilRuntime:
        return cls(load_program(package))

    @property
    def input_names(self) -> list[str]:
        """The inputs a prediction is given (states excluded)."""
        return [name for name in self.function.inputs if name not in self.state_names]

    @property
    def state_names(self) -> list[str]:
        import coremltools.converters.mil.mil.types as types

        return [name for name, var in self.function.inputs.items() if types.is_state(var.sym_type)]

    def make_state(self) -> dict[str, np.ndarray]:
        """Zeroed state buffers, as `MLModel.makeState()` gives on a device."""
        import coremltools.converters.mil.mil.types as types

        state = {}
        for name in self.state_names:
            wrapped = self.function.inputs[name].sym_type.wrapped_type()
            dtype = types.nptype_from_builtin(wrapped.get_primitive())
            state[name] = np.zeros(wrapped.get_shape(), dtype=dtype)
        return state

    def predict(self, inputs: dict[str, np.ndarray], state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values: dict[str, Any] = {**inputs, **state}
        for op in self.function.operations:
            self._run(op, values, state)
        return {var.name: values[var.name] for var in self.function.outputs}

    def _run(self, op: Any, values: dict[str, Any], state: dict[str, np.ndarray]) -> None:
        kind = op.op_type
        if kind == "const" or kind.startswith("constexpr_"):
            values[op.outputs[0].name] = self._constant(op)
        elif kind == "read_state":
            values[op.outputs[0].name] = state[op.input.name].copy()
        elif kind == "coreml_update_state":
            state[op.state.name][...] = values[op.value.name]
            values[op.outputs[0].name] = values[op.value.name]
        elif kind in self._special:
            values[op.outputs[0].name] = _as_declared(op.outputs[0], self._special[kind](op, values))
        else:
            self._infer(op, values)

    def _linear(self, op: Any, values: dict[str, Any]) -> np.ndarray:
        """x @ W.T + b with the weight's float32 transpose kept (a weight is a constant: widen it once)."""
        name = op.weight.name
        if not _is_constant(op.weight):
            weight = np.swapaxes(_wide(values[name]), -1, -2)
        elif (weight := self._wide_weights.get(name)) is None:
            weight = self._wide_weights[name] = np.ascontiguousarray(_wide(values[name]).T)
        out = _wide(values[op.x.name]) @ weight
        return out if op.bias is None else out + _wide(values[op.bias.name])

    def _constant(self, op: Any) -> Any:
        """A const's value, or a compressed weight decompressed (once: it is the slow part)."""
        if op.name not in self._constants:
            if op.op_type == "const":
                value = op.outputs[0].val
                value = bool(value) if isinstance(value, np.bool_) else value  # numpy rejects np.bool_ keepdims
            else:
                value = op.materialized_val_inference()
            self._constants[op.name] = value
        return self._constants[op.name]

    @staticmethod
    def _infer(op: Any, values: dict[str, Any]) -> None:
        """Bind the inputs' values (and their concrete shapes) onto their Vars, let the op compute, unbind."""
        bound = [var for var in _input_vars(op) if var.name in values]
        saved = [(var, var._sym_type, var._sym_val) for var in bound]
        try:
            for var in bound:
                _bind(var, values[var.name])
            result = op.value_inference()
        finally:
            for var, sym_type, sym_val in saved:
                var._sym_type, var._sym_val = sym_type, sym_val
        results = result if isinstance(result, tuple) else (result,)
        if any(r is None for r in results):
            raise NotImplementedError(f"MIL op {op.op_type} ({op.name}) has no numeric implementation")
        for var, value in zip(op.outputs, results):
            values[var.name] = _as_declared(var, value)


def _bind(var: Any, value: Any) -> None:
    """Give a Var a value and, if it is a tensor of flexible shape, the value's concrete shape."""
    import coremltools.converters.mil.mil.types as types

    if types.is_tensor(var._sym_type) and isinstance(value, np.ndarray):
        var._sym_type = types.tensor(var._sym_type.get_primitive(), value.shape)
    var._sym_val = _Value(value)


def _as_declared(var: Any, value: Any) -> Any:
    """Cast to the Var's declared dtype: numpy promotes (int / int -> float64, fp16 ops -> fp32)."""
    import coremltools.converters.mil.mil.types as types

    if not isinstance(value, (np.ndarray, np.generic)):
        return value
    primitive = var._sym_type.get_primitive() if types.is_tensor(var._sym_type) else var._sym_type
    dtype = types.nptype_from_builtin(primitive)
    return np.asarray(value).astype(dtype, copy=False)


def _is_constant(var: Any) -> bool:
    return var.op is not None and (var.op.op_type == "const" or var.op.op_type.startswith("constexpr_"))


def _input_vars(op: Any) -> list[Any]:
    out = []
    for value in op.inputs.values():
        out.extend(value if isinstance(value, (list, tuple)) else [value])
    return out
