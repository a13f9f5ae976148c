"""What other panes ask the Models pane to do with a model found elsewhere (see `ModelsPane.take_request`)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.models.elsewhere import FoundModel


@dataclass(frozen=True)
class RunFound:
    """Run this GGUF another app keeps, as it is (llama.cpp), instead of importing it."""

    model: FoundModel
