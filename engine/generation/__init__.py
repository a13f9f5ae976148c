"""Chat generation: one worker thread owns every MLX call and streams events back."""

from engine.generation.engine import Engine, Generation
from engine.generation.events import Event, Finished, Stats, Token
from engine.generation.settings import SamplingSettings

__all__ = ["Engine", "Event", "Finished", "Generation", "SamplingSettings", "Stats", "Token"]
