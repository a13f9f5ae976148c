"""The llama.cpp backend: a GGUF file run as it is by llama-cpp-python, driven one token at a time.

llama.cpp holds one KV cache per context, while the engine keeps one per conversation (and a few shared ones).
So a `LlamaKV` is a conversation's claim on that one cache: the ids it holds and, while another conversation
has the context, a saved copy of its sequence (llama.cpp's own state serialisation, the keys and values of
its tokens only). The conversation answering now is resident: its ids are the context's, it is trimmed in
place, and switching to another saves it and restores the other, so no conversation is ever recomputed.

Sampling runs in llama.cpp's own sampler chain, built in mlx_lm's order and with its windows
(engine/backends/llamacpp_sampling.py), so settings mean the same on both backends. A grammar (structured output)
masks the logits first, with the same matcher as on MLX (engine/structured/matcher.py). Like mlx_lm, every sampled
token, the last one (EOS) included, is fed back, so the cache holds the prompt and every generated id.
"""

from __future__ import annotations

import ctypes
import os
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from threading import Event as StopFlag
from typing import Any

import numpy as np
import psutil

from engine.backends.base import MemoryCounters, PrefillStopped, Step, WorkerBound, worker_only
from engine.backends.llamacpp_log import error_lines
from engine.backends.llamacpp_sampling import sampler_chain
from engine.backends.llamacpp_tokenizer import LlamaCppTokenizer, Utf8Stream
from engine.errors import ModelError
from engine.generation.settings import SamplingSettings
from engine.models.folder import ModelInfo
from engine.models.gguf_model import LLAMA_CPP_MISSING
from engine.models.store import remember_gguf
from engine.structured.matcher import GrammarMatcher

PREFILL_STEP = 512
"""Prefill chunk size (llama.cpp's batch): a stop request during prefill is seen after at most this many tokens."""
SEQUENCE = 0
RSS_INTERVAL = 0.25
"""Seconds between two reads of the process's memory: a read costs ~0.1 ms (/proc), 1% of a token here if per token."""


def decode_threads(cores: int) -> int:
    """Half the cores (llama-cpp-python's default), at least one. Measured on a 2-core x86 VM (SmolLM2-135M Q4_1):
    idle, 2 threads decode 122 tok/s and 1 thread 63; with the machine busy (load ~4.5), 2 threads fell to 2-14
    tok/s (llama.cpp's threads wait on each other at every op) while 1 thread kept 66-72. A window and an API
    server share the machine with the model, so decode leaves cores free; prefill (short bursts) takes them all."""
    return max(1, cores // 2)


MISSING = LLAMA_CPP_MISSING


def require_llama_cpp() -> Any:
    """The llama_cpp module, or one clear ModelError when it is not installed."""
    try:
        import llama_cpp
    except ImportError:
        raise ModelError(MISSING) from None
    return llama_cpp


def open_llama(info: ModelInfo, context: int) -> Any:
    """A `llama_cpp.Llama` for a validated GGUF file: every core for prefill, `decode_threads` for decode, the context
    capped at the model's; one ModelError line when llama.cpp cannot run it."""
    llama_cpp = require_llama_cpp()
    cores = os.cpu_count() or 1
    with error_lines() as errors:
        try:
            llama = llama_cpp.Llama(
                model_path=str(info.path),
                n_ctx=min(context, info.context_length or context),
                n_batch=PREFILL_STEP,
                n_threads=decode_threads(cores),
                n_threads_batch=cores,
                n_gpu_layers=-1 if llama_cpp.llama_supports_gpu_offload() else 0,  # Metal on a Mac: every layer
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError) as e:
            reason = errors[0] if errors else str(e).strip() or type(e).__name__  # the first says why
            raise ModelError(
                f"could not load {info.name}: llama.cpp cannot run this '{info.model_type}' model ({reason})"
            ) from None
    remember_gguf(info.path)
    return llama


@dataclass
class LlamaKV:
    """One conversation's keys and values: the ids they hold, and their saved copy while not resident."""

    tokens: list[int] = field(default_factory=list)
    saved: bytes | None = None
    """llama.cpp's serialised sequence, covering `saved_len` ids (≥ len(tokens): trimmed later without a restore)."""
    saved_len: int = 0
    gaps: tuple[tuple[int, int], ...] = ()
    """Where positions fall behind ids: (the index just past an image, how many fewer positions than tokens it
    takes). Only images of models with multi-dimensional positions (M-RoPE, engine/backends/llamacpp_vision.py)
    have gaps; elsewhere a token's position is its index."""

    def position(self, index: int) -> int:
        """The position in llama.cpp's context of the id at `index` (or of the next one, at len(tokens))."""
        return index - sum(gap for end, gap in self.gaps if end <= index)

    def keep(self, count: int) -> None:
        """Keep only the first `count` ids."""
        self.tokens = self.tokens[:count]
        self.gaps = tuple((end, gap) for end, gap in self.gaps if end <= count)


class LlamaCppBackend(WorkerBound):
    """A GGUF model loaded with llama-cpp-python. Made by `load`, on the thread that will use it."""

    compute_plan = None
    kv_bits = None
    """llama.cpp's cache stays at full precision: Cabin does not set its type_k/type_v (yet)."""
    batchable = False
    """Answers run one at a time: llama.cpp's one context holds one conversation (engine/backends/llamacpp.py)."""

    def __init__(self, llama: Any, weight_bytes: int) -> None:
        super().__init__()
        self._llama = llama
        self._tokenizer = LlamaCppTokenizer(llama)
        self._resident: weakref.ref[LlamaKV] | None = None
        """The conversation whose ids the context holds; weak, so a cache the engine dropped is not saved."""
        self.resident_weight_bytes = weight_bytes
        self.context_limit: int | None = llama.n_ctx()
        """llama.cpp's KV cache is allocated once, at load: the engine fits each conversation into it."""
        self._process = psutil.Process()
        self._rss = self._peak = 0
        self._rss_read_at = -RSS_INTERVAL

    @classmethod
    def load(cls, info: ModelInfo, context: int) -> LlamaCppBackend:
        """Load a validated GGUF file (see `open_llama`)."""
        return cls(open_llama(info, context), info.weight_bytes)

    @property
    @worker_only
    def model(self) -> Any:
        """The raw `Llama` (benches, raw baselines), with an empty context: the conversation that held it is saved
        first and restored when it answers again, so nothing the caller evaluates leaks into a conversation."""
        self._evict()
        return self._llama

    @property
    @worker_only
    def tokenizer(self) -> LlamaCppTokenizer:
        return self._tokenizer

    @worker_only
    def new_cache(self) -> LlamaKV:
        return LlamaKV()

    @worker_only
    def trim_cache(self, kv: LlamaKV, n: int) -> bool:
        if self._llama._is_recurrent or self._llama._is_hybrid:
            return False  # a recurrent state cannot forget its last tokens
        keep = len(kv.tokens) - n
        if self._is_resident(kv):
            self._drop_from(kv, keep)
        kv.keep(keep)
        return True

    @worker_only
    def copy_cache(self, kv: LlamaKV) -> LlamaKV:
        if self._is_resident(kv):
            return LlamaKV(list(kv.tokens), self._save(), len(kv.tokens), kv.gaps)
        return LlamaKV(list(kv.tokens), kv.saved, kv.saved_len, kv.gaps)

    @worker_only
    def generate(self, prompt: list[int], kv: LlamaKV, settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        grammar = None if settings.grammar is None else GrammarMatcher(settings.grammar, self._tokenizer)
        self._make_resident(kv)
        chain = sampler_chain(settings, self._tokenizer.vocab_size)
        return self._steps(prompt, kv, chain, grammar, settings.max_tokens, stop)

    def _steps(
        self, prompt: list[int], kv: LlamaKV, chain: Any, grammar: GrammarMatcher | None, max_tokens: int, stop: StopFlag
    ) -> Iterator[Step]:
        pending: int | None = None
        try:
            started = time.perf_counter()
            self._prefill(kv, prompt, stop)
            for token in prompt:
                if token >= 0:  # mlx_lm's penalties see the prompt this call prefilled, too (an image has no ids)
                    chain.accept(token)
            text = Utf8Stream(self._tokenizer)
            prompt_tps = first = 0.0
            for n in range(1, max_tokens + 1):
                self.check_thread("generate")
                if pending is not None:
                    fed, pending = pending, None
                    self._feed(kv, [fed])
                if grammar is not None:
                    self._mask(grammar)
                token = pending = chain.sample(self._llama._ctx, -1)
                if grammar is not None:
                    grammar.consume(token)
                now = time.perf_counter()
                if n == 1:
                    prompt_tps, first = len(prompt) / (now - started), now
                end = self._tokenizer.is_end_of_generation(token)
                finish = "stop" if end else "length" if n == max_tokens else None
                piece = text.flush() if end else text.feed(token)
                if finish == "length":
                    piece += text.flush()
                tps = (n - 1) / (now - first) if n > 1 else 0.0
                yield Step(token, piece, finish, prompt_tps, n, tps, self._counters().peak)
                if finish:
                    return
        finally:
            chain.close()
            if pending is not None:
                self._feed(kv, [pending])

    def _prefill(self, kv: LlamaKV, prompt: list[int], stop: StopFlag) -> None:
        """Feed `prompt` in PREFILL_STEP chunks, raising PrefillStopped between two when `stop` is set."""
        for i in range(0, len(prompt), PREFILL_STEP):
            if stop.is_set():
                raise PrefillStopped
            self._feed(kv, prompt[i : i + PREFILL_STEP])

    def _mask(self, grammar: GrammarMatcher) -> None:
        """-inf, in llama.cpp's own logits buffer, for every token the grammar forbids next: the sampler chain reads
        that buffer, and no penalty lifts -inf back (the MLX backend masks after its penalties for the same end)."""
        import llama_cpp

        size = self._tokenizer.vocab_size
        logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(self._llama._ctx.ctx, -1), shape=(size,))
        logits[~grammar.allowed(size)] = -np.inf

    def _feed(self, kv: LlamaKV, tokens: list[int]) -> None:
        self._llama.eval(tokens)
        kv.tokens.extend(tokens)

    def _make_resident(self, kv: LlamaKV) -> None:
        """Give `kv` the context: save the resident conversation's sequence, restore `kv`'s (or start empty)."""
        if self._is_resident(kv):
            return
        self._evict()
        if kv.saved is not None:
            self._restore(kv)
        self._resident = weakref.ref(kv)

    def _evict(self) -> None:
        """Empty the context, saving the resident conversation's sequence first."""
        previous = self._resident() if self._resident is not None else None
        if previous is not None:
            previous.saved, previous.saved_len = self._save(), len(previous.tokens)
        self._resident = None
        self._llama._ctx.kv_cache_seq_rm(SEQUENCE, -1, -1)
        self._llama.n_tokens = 0

    def _is_resident(self, kv: LlamaKV) -> bool:
        return self._resident is not None and self._resident() is kv

    def _save(self) -> bytes:
        import llama_cpp

        ctx = self._llama._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, SEQUENCE)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, SEQUENCE)
        return ctypes.string_at(buffer, written)  # one copy: slicing a ctypes array builds a list of ints (35x slower)

    def _restore(self, kv: LlamaKV) -> None:
        import llama_cpp

        assert kv.saved is not None
        buffer = (ctypes.c_uint8 * len(kv.saved)).from_buffer_copy(kv.saved)
        if llama_cpp.llama_state_seq_set_data(self._llama._ctx.ctx, buffer, len(kv.saved), SEQUENCE) == 0:
            raise RuntimeError("llama.cpp could not restore a saved conversation")
        self._drop_from(kv, len(kv.tokens))

    def _drop_from(self, kv: LlamaKV, index: int) -> None:
        """Forget the context's ids from `index` on; the next id goes there (`Llama.n_tokens` is the next position)."""
        position = kv.position(index)
        self._llama._ctx.kv_cache_seq_rm(SEQUENCE, position, -1)
        self._llama.n_tokens = position

    def _counters(self, now: bool = False) -> MemoryCounters:
        """The process's resident memory (llama.cpp has no allocator counters), read at most every RSS_INTERVAL;
        the peak is the largest reading since the last reset. Nothing is held in a cache."""
        if now or time.monotonic() - self._rss_read_at >= RSS_INTERVAL:
            self._rss, self._rss_read_at = self._process.memory_info().rss, time.monotonic()
            self._peak = max(self._peak, self._rss)
        return MemoryCounters(self._rss, self._peak, 0)

    @worker_only
    def memory(self) -> MemoryCounters:
        return self._counters()

    @worker_only
    def reset_peak_memory(self) -> None:
        self._peak = 0
        self._counters(now=True)

    @worker_only
    def release(self) -> MemoryCounters:
        self._llama.close()
        self._llama = self._resident = None
        return self._counters(now=True)

