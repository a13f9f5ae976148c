"""The README.md written beside the package for the iOS team: what is in the folder and Swift that runs it."""

from __future__ import annotations

from engine.coreml.events import ExportSummary
from engine.memory import format_bytes

SWIFT = """\
import CoreML
import Tokenizers  // https://github.com/huggingface/swift-transformers

/// Greedy generation with one MLState: prefill the whole prompt in one call, then one token per call.
final class {class_name} {{
    let model: MLModel
    let tokenizer: Tokenizer
    let contextLength = {context}
    let eosTokenIds: Set<Int> = [{eos}]

    init(folder: URL) async throws {{
        let configuration = MLModelConfiguration()
        configuration.computeUnits = .cpuAndGPU
        let compiled = try await MLModel.compileModel(at: folder.appending(path: "{package}"))
        model = try await MLModel.load(contentsOf: compiled, configuration: configuration)
        tokenizer = try await AutoTokenizer.from(modelFolder: folder)
    }}

    func generate(messages: [[String: String]], maxTokens: Int = 256) async throws -> String {{
        var tokens = try tokenizer.applyChatTemplate(messages: messages)
        let state = model.makeState()
        var past = 0
        var newTokens: [Int] = []
        var input = tokens
        while newTokens.count < maxTokens, past + input.count <= contextLength {{
            let logits = try await predict(input, past: past, state: state)
            past += input.count
            let next = argmaxOfLastRow(logits)
            if eosTokenIds.contains(next) {{ break }}
            newTokens.append(next)
            tokens.append(next)
            input = [next]
        }}
        return tokenizer.decode(tokens: newTokens)
    }}

    /// inputIds (1, n) int32 and fullAttentionMask (1, 1, n, past + n) fp16: 0 attends, -inf is masked.
    func predict(_ ids: [Int], past: Int, state: MLState) async throws -> MLShapedArray<Float16> {{
        let n = ids.count
        let inputIds = MLShapedArray<Int32>(scalars: ids.map(Int32.init), shape: [1, n])
        var mask = [Float16](repeating: 0, count: n * (past + n))
        for row in 0..<n {{
            for column in (past + row + 1)..<(past + n) {{ mask[row * (past + n) + column] = -.infinity }}
        }}
        let attentionMask = MLShapedArray<Float16>(scalars: mask, shape: [1, 1, n, past + n])
        let features = try MLDictionaryFeatureProvider(dictionary: [
            "inputIds": MLMultiArray(inputIds),
            "fullAttentionMask": MLMultiArray(attentionMask),
        ])
        let output = try await model.prediction(from: features, using: state)
        return MLShapedArray<Float16>(output.featureValue(for: "logits")!.multiArrayValue!)
    }}

    func argmaxOfLastRow(_ logits: MLShapedArray<Float16>) -> Int {{
        let row = logits[0][logits.shape[1] - 1].scalars
        return row.indices.max(by: {{ row[$0] < row[$1] }})!
    }}
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
instead of generating wrong text. The Swift below, and `CabinGenerator` in `Swift/`, drive it directly.

## Files

- `{package}`: the model (Xcode compiles it to `.mlmodelc` when you add it to a target).
- `tokenizer.json`, `tokenizer_config.json` (with the chat template): load with swift-transformers' `AutoTokenizer`.
- `config.json`: the source model's configuration.
- `golden.npz`: test vectors: `prefill_*` then `decode0_*`...; inputs and the logits the model must give, fed in order
  into one `MLState`. Compare the last row's top token and the relative error (`max|got - want| / max|want|`).
- `manifest.json`: every file with its SHA-256, the export recipe, checks and per-weight errors.

## Swift

```swift
{swift}
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
    class_name = "".join(c for c in name.title() if c.isalnum()) or "Model"
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
        swift=SWIFT.format(
            class_name=f"{class_name}Generator", context=summary.context, eos=", ".join(map(str, eos)), package=summary.package
        ).rstrip(),
        notes=f"## Notes\n\n{notes}\n" if notes else "",
    )
