"""Settings that the engine holds rather than reads per answer: MLX's memory limits, the float32 upcast, the
KV-cache bits, the size limit of the prompt-cache files and each model's draft model."""

from __future__ import annotations

from concurrent.futures import Future

from engine.generation import Engine
from engine.generation.disk_cache import MB
from engine.memory import MemoryLimits
from engine.settings.file import Settings
from engine.speculative import DraftChoice

ENGINE_KEYS = ("memory_limit_gb", "cache_limit_gb", "upcast_on_cpu", "kv_cache_bits", "prompt_cache_disk_mb",
               "draft_models", "num_draft_tokens")


def apply_to_engine(settings: Settings, engine: Engine) -> Future[MemoryLimits] | None:
    """The upcast and the KV-cache bits are used at the next load; the limits are set on the worker now.

    With no limits chosen and none set before, MLX is left alone (and not even imported yet, so the
    window still opens before MLX loads).
    """
    engine.upcast_on_cpu = settings.values.upcast_on_cpu
    engine.kv_bits = settings.values.kv_cache_bits
    engine.drafts = drafts(settings)
    if engine.cache_folder is not None and engine.cache_folder.limit != cache_files_limit(settings):
        engine.set_cache_files_limit(cache_files_limit(settings))
    limits = settings.memory_limits()
    if limits == (None, None) and engine.memory().limits is None:
        return None
    return engine.set_memory_limits(*limits)


def drafts(settings: Settings) -> dict[str, DraftChoice]:
    """Each model's draft model, as the engine takes them (used the next time that model is loaded)."""
    values = settings.values
    return {model: DraftChoice(draft, values.num_draft_tokens) for model, draft in values.draft_models.items()}


def cache_files_limit(settings: Settings) -> int:
    """Bytes the prompt-cache files may take."""
    return settings.values.prompt_cache_disk_mb * MB
