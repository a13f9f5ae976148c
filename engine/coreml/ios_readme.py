"""The README.md written beside the package for the iOS team: what is in the folder and Swift that runs it."""

from __future__ import annotations

from pathlib import Path

from engine.coreml.events import ExportSummary
from engine.memory import format_bytes

USAGE = """\
import CabinGenerator

let folder = Bundle.main.url(forResource: "{folder}", withExtension: nil)!  // this folder, added to your app
let generator = try await Generator(folder: folder)
for try await text in generator.stream(messages: [["role": "user", "content": "Hello!"]]) {{
    print(text, terminator: "")
}}
"""

TEMPLATE = """\
# {name} for Core ML

Exported by Cabin from `{source}` ({architecture}, {parameters}): a stateful ML program for
iOS 18 / macOS 15 and later, loadable with `MLModel` and run with one `MLState` per conversation.

| | |
|---|---|
| Package | `{package}` ({package_size}; fp16 would be {fp16_size}) |
| Weights | {compression} |
| Context | {context} tokens (the KV cache is allocated at this size) |
| Inputs | `inputIds` int32 (1, n), n in 1...{context}; `fullAttentionMask` fp16 (1, 1, n, past + n) |
| Output | `logits` fp16 (1, n, {vocab}) |
| States | `keyCache`, `valueCache` fp16 {cache_shape} |
| End of sequence | {eos} |
| Quality | {quality} |

The mask is additive: 0 where a token may attend, -inf (or -65504) where it may not. `past` is the
number of tokens already in the state, so a prefill of n tokens uses a (1, 1, n, n) lower-triangular
mask and each decode step a (1, 1, 1, past + 1) row of zeros; the package reads `past` from the mask's
width, so the mask must be exactly this shape.

**Drivers.** swift-transformers' `LanguageModel.loadCompiled` (the version with `fullAttentionMask`
support, huggingface/swift-transformers PR #331, 2026-03) drives this package correctly: it picks
`LanguageModelWithStatefulKVCache`, feeds the prompt then one token per call into one `MLState`, and
builds exactly this mask for an input named `fullAttentionMask`. Older swift-transformers versions only
know `causalMask` (which they fill with zeros one column too long) and stop with a missing-input error
instead of generating wrong text. `CabinGenerator/` (below) drives it directly.

## Files

- `{package}`: the model (Xcode compiles it to `.mlmodelc` when you add it to a target).
- `tokenizer.json`, `tokenizer_config.json` (with the chat template): load with swift-transformers' `AutoTokenizer`.
- `config.json`: the source model's configuration.
- `golden.npz`: test vectors: `prefill_*` then `decode0_*`...; inputs and the logits the model must give, fed in order
  into one `MLState`. Compare the last row's top token and the relative error (`max|got - want| / max|want|`).
- `manifest.json`: every file with its SHA-256, the export recipe, checks and per-weight errors.

## Swift: the `CabinGenerator` package

`CabinGenerator/` is a Swift package (iOS 18 / macOS 15; depends on swift-transformers for the tokenizer
and chat template) with one class, `Generator`: it applies the chat template, keeps one `MLState` per reply,
feeds the prompt in one prediction and then one token per prediction, and streams the text as an
`AsyncThrowingStream<String, Error>` (greedy, stops at {eos_text}). Its init checks the model's inputs,
output and states by name. To use it:

1. In Xcode, File > Add Package Dependencies… > Add Local…, choose `CabinGenerator/`, and add the
   `CabinGenerator` library to your app target (or `.package(path: "CabinGenerator")` in a Package.swift).
2. Add this whole folder to the app as a folder reference (blue folder) named `{folder}`, so the
   `.mlpackage` and the tokenizer files ship together (`Generator` compiles the package on first load;
   cache the compiled `.mlmodelc` if load time matters).
3. Stream a reply:

```swift
{usage}
```

{notes}
"""


def compression_text(summary: ExportSummary) -> str:
    if summary.mode == "fp16":
        return "float16, uncompressed"
    if summary.mode == "palettize":
        return f"{summary.bits}-bit k-means palettes, one per {summary.group_size} output channels"
    if summary.mode == "affine":
        return f"the source's own MLX {summary.bits}-bit affine quantization, groups of {summary.group_size} input values"
    return f"int{summary.bits} linear (symmetric), blocks of {summary.group_size} input values"


def quality_text(summary: ExportSummary) -> str:
    """Agreement and perplexity against the source in MLX float32, and a plain warning when compression costs accuracy."""
    if summary.fidelity is None:
        return "not measured (exported without checks)"
    warning = " **This compression mode costs accuracy on this model.**" if summary.fidelity.costs_accuracy else ""
    return f"{summary.fidelity.describe()}{warning}"


def readme(summary: ExportSummary, vocab: int, cache_shape: tuple[int, ...], eos: list[int]) -> str:
    name = summary.source_model.split("/")[-1]
    notes = "\n".join(f"- {note}" for note in summary.notes)
    return TEMPLATE.format(
        name=name,
        source=summary.source_model,
        architecture=summary.architecture,
        parameters=f"{summary.parameters / 1e6:.1f}M parameters",
        package=summary.package,
        package_size=format_bytes(summary.package_bytes),
        fp16_size=format_bytes(summary.fp16_bytes),
        compression=compression_text(summary),
        context=summary.context,
        vocab=vocab,
        cache_shape=" × ".join(map(str, cache_shape)),
        eos=", ".join(map(str, eos)) or "none declared",
        quality=quality_text(summary),
        folder=Path(summary.out).name,
        usage=USAGE.format(folder=Path(summary.out).name).rstrip(),
        eos_text=f"end-of-sequence ids {', '.join(map(str, eos))}" if eos else "the context length",
        notes=f"## Notes\n\n{notes}\n" if notes else "",
    )
