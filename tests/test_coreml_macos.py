"""On a Mac (macOS 15+), the real Core ML runtime reproduces the golden vectors with one MLState.

Linux has no Core ML runtime (`predict`, `make_state` and compiling are macOS-only), so this is
skipped there; the numpy MIL interpreter covers the same ground in test_coreml_package.py.
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.coreml.golden import replay

pytestmark = pytest.mark.skipif(
    sys.platform != "darwin" or int(platform.mac_ver()[0].split(".")[0] or 0) < 15,
    reason="the Core ML runtime with MLState needs macOS 15 or later",
)


@pytest.mark.parametrize("compute_units", ["CPU_ONLY", "CPU_AND_GPU"])
def test_core_ml_predict_with_state_matches_the_golden_vectors(
    coreml_palettized: tuple[Path, object], compute_units: str
) -> None:
    import coremltools as ct

    folder, summary = coreml_palettized
    model = ct.models.MLModel(str(folder / summary.package), compute_units=getattr(ct.ComputeUnit, compute_units))
    state = model.make_state()
    golden = dict(np.load(folder / "golden.npz"))
    agreement = replay(lambda inputs: model.predict(inputs, state=state)["logits"], golden)
    assert agreement.relative_error < 2e-2 and agreement.same_top_token
