"""Who answers one request, and why: a pure decision from the conversation's mode, its privacy, the machine's
offline state, the provider set up, the complexity score and the threshold. It touches nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.cloud.complexity import Complexity
from engine.cloud.provider import Provider

Mode = Literal["local", "auto", "cloud"]
MODES: tuple[Mode, ...] = ("local", "auto", "cloud")
MODE_NAMES: dict[str, str] = {"local": "Local only", "auto": "Auto", "cloud": "Cloud"}
Target = Literal["local", "cloud"]


@dataclass(frozen=True)
class Route:
    target: Target
    reason: str
    score: float | None = None

    @property
    def label(self) -> str:
        """What the answer shows: "Cloud: long multi-step request, score 0.71", "Local: private conversation"."""
        head = "Cloud" if self.target == "cloud" else "Local"
        score = f", score {self.score:.2f}" if self.score is not None else ""
        return f"{head}: {self.reason}{score}" if self.reason else head


LOCAL_ONLY = Route("local", "")


def decide(
    mode: Mode,
    private: bool,
    offline: str | None,
    provider: Provider | None,
    complexity: Complexity | None,
    threshold: float,
) -> Route:
    """Local unless everything allows the cloud; in Auto, cloud only when the score reaches the threshold.
    `offline` is why the machine must stay off the network (engine/cloud/offline.py), None when it need not."""
    if mode == "local":
        return LOCAL_ONLY
    if private:
        return Route("local", "private conversation")
    if offline:
        return Route("local", offline)
    if provider is None:
        return Route("local", "no cloud provider set up")
    score = complexity.score if complexity else None
    if mode == "cloud":
        return Route("cloud", "chosen for this conversation", score)
    assert complexity is not None
    target: Target = "cloud" if complexity.score >= threshold else "local"
    return Route(target, complexity.reason, complexity.score)
