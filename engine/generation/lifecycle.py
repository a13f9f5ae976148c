"""The model's lifecycle on the worker: check that a model fits, load it with the backend its format needs,
and release it (with its prompt caches, written to their files first) before the next one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from engine.backends import backend_name, kv_bits_for, load_backend
from engine.generation.cache_file import model_key
from engine.generation.caches import PromptCaches
from engine.generation.disk_cache import CacheFolder, ModelCacheFiles
from engine.generation.kv_room import NO_ROOM, KVRoom, measure
from engine.models.folder import ModelInfo
from engine.tools.format import ToolFormat, tool_format

if TYPE_CHECKING:
    from engine.backends.base import Backend, MemoryCounters
    from engine.compute_dtype import ComputePlan
    from engine.speculative import DraftChoice


class ModelLifecycle:
    """Worker thread only; `info`, `compute_plan`, `resident_weight_bytes` and `tool_format` are plain values anyone
    may read."""

    def __init__(self, max_conversations: int, shared_caches: int, cache_folder: CacheFolder | None = None) -> None:
        self._max_conversations = max_conversations
        self.cache_folder = cache_folder
        self._shared_size = shared_caches
        self.backend: Backend | None = None
        self.caches: PromptCaches | None = None
        self.info: ModelInfo | None = None
        self.compute_plan: ComputePlan | None = None
        self.resident_weight_bytes = 0
        self.tool_format: ToolFormat | None = None
        self.kv_bits: int | None = None
        self.draft_name: str | None = None
        """The draft model loaded beside the model (speculative decoding)."""
        self.draft_note = ""
        """Why the draft set for the model was not loaded (a GGUF model runs on llama.cpp without it)."""
        self.kv_room: KVRoom = NO_ROOM

    def load(
        self, spec: str | Path, context: int, allow_oversize: bool, upcast_on_cpu: bool, kv_bits: int | None = None,
        drafts: Mapping[str, DraftChoice] | None = None,
    ) -> ModelInfo:
        """Check the new model, its draft (`drafts`, engine/models/draft.py) and that they fit before freeing the old
        one, so a refusal costs the user nothing."""
        from engine.models.draft import plan_draft
        from engine.models.loading import inspect_model, refuse_if_too_big

        info = inspect_model(spec)
        kv_bits = kv_bits_for(info, kv_bits)
        plan = plan_draft(info, drafts or {})
        fit_context = min(context, info.context_length or context)
        if not allow_oversize:
            refuse_if_too_big(info, fit_context, kv_bits, plan.extra_bytes(fit_context, kv_bits))
        self.release()
        self.backend = load_backend(info, context, upcast_on_cpu, kv_bits, plan.draft)
        self.draft_name = plan.draft[1].name if plan.draft else None
        self.draft_note = plan.note
        files = self._files(info, kv_bits, plan.draft[1] if plan.draft else None)
        self.caches = PromptCaches(self.backend, self._max_conversations, self._shared_size, files)
        self.compute_plan = self.backend.compute_plan
        self.resident_weight_bytes = self.backend.resident_weight_bytes
        self.tool_format = tool_format(self.backend.tokenizer)
        self.kv_bits = kv_bits
        upcast = self.compute_plan is not None and self.compute_plan.upcast
        self.kv_room = measure(info, self.resident_weight_bytes, kv_bits, self.backend.batchable, upcast)
        self.info = info
        return info

    def _files(self, info: ModelInfo, kv_bits: int | None, draft: ModelInfo | None) -> ModelCacheFiles | None:
        """The cache files this model reads and writes: MLX text models only (the files are mlx_lm's format)."""
        if self.cache_folder is None or self.backend is None or backend_name(info) != "MLX" or info.vision:
            return None
        plan = self.backend.compute_plan
        draft_key = model_key(draft, plan, kv_bits) if draft is not None else ""
        return ModelCacheFiles(self.cache_folder, model_key(info, plan, kv_bits, draft_key))

    def release(self) -> MemoryCounters | None:
        """Free the model and its caches; the runtime's memory afterwards (None: no model was loaded)."""
        if self.caches is not None:
            self.caches.save_unsaved()
        backend, self.backend = self.backend, None
        self.caches = self.info = self.compute_plan = self.tool_format = self.kv_bits = self.draft_name = None
        self.draft_note = ""
        self.resident_weight_bytes = 0
        self.kv_room = NO_ROOM
        return backend.release() if backend is not None else None
