"""A small Swift package written beside the .mlpackage: `CabinGenerator`, a `Generator` that streams a reply.

It cannot be compiled here (no Core ML on Linux), so it is kept small and generated from the same
names the package is converted with (`convert.py`), and its init checks the model's inputs, output
and states by those names, so a mismatch fails at load with a clear message instead of at the first
prediction. The chat template and tokenizer come from swift-transformers' `AutoTokenizer`.
"""

from __future__ import annotations

from pathlib import Path

from engine.coreml.convert import ATTENTION_MASK, INPUT_IDS, KEY_CACHE, LOGITS, SLIDING_MASK, VALUE_CACHE

FOLDER = "CabinGenerator"
SWIFT_TRANSFORMERS = "https://github.com/huggingface/swift-transformers"
SWIFT_TRANSFORMERS_FROM = "1.0.0"

PACKAGE_SWIFT = """\
// swift-tools-version: 5.10
import PackageDescription

let package = Package(
    name: "{folder}",
    platforms: [.iOS(.v18), .macOS(.v15)],
    products: [.library(name: "{folder}", targets: ["{folder}"])],
    dependencies: [.package(url: "{url}", from: "{version}")],
    targets: [
        .target(name: "{folder}", dependencies: [.product(name: "Tokenizers", package: "swift-transformers")]),
    ]
)
"""

GENERATOR_SWIFT = """\
import CoreML
import Foundation
import Tokenizers

/// Streams a reply from the exported model: the chat template, one `MLState` per reply, the prompt in one
/// prediction, then one token per prediction. Greedy; stops at an end-of-sequence token, `maxNewTokens`
/// or the context length.
public final class Generator: @unchecked Sendable {{
    /// The package's interface, as exported.
    public enum Names {{
        public static let inputIds = "{input_ids}"
        public static let fullAttentionMask = "{attention_mask}"
        public static let slidingAttentionMask = "{sliding_mask}"
        public static let logits = "{logits}"
        public static let states = ["{key_cache}", "{value_cache}"]
    }}

    public struct InterfaceError: Error, CustomStringConvertible {{
        public let description: String
    }}

    public let model: MLModel
    public let tokenizer: Tokenizer
    public let contextLength = {context}
    public let slidingWindow: Int? = {window}
    public let eosTokenIds: Set<Int> = [{eos}]

    /// `folder` is the export folder (or a copy of it in your bundle): the .mlpackage and the tokenizer files.
    public init(folder: URL, computeUnits: MLComputeUnits = .cpuAndGPU) async throws {{
        let configuration = MLModelConfiguration()
        configuration.computeUnits = computeUnits
        let compiled = try await MLModel.compileModel(at: folder.appending(path: "{package}"))
        model = try await MLModel.load(contentsOf: compiled, configuration: configuration)
        tokenizer = try await AutoTokenizer.from(modelFolder: folder)
        try checkInterface()
    }}

    public func stream(messages: [[String: String]], maxNewTokens: Int = 512) -> AsyncThrowingStream<String, Error> {{
        AsyncThrowingStream {{ continuation in
            let task = Task {{
                do {{
                    try await self.generate(messages: messages, maxNewTokens: maxNewTokens) {{ continuation.yield($0) }}
                    continuation.finish()
                }} catch {{
                    continuation.finish(throwing: error)
                }}
            }}
            continuation.onTermination = {{ _ in task.cancel() }}
        }}
    }}

    func generate(messages: [[String: String]], maxNewTokens: Int, emit: (String) -> Void) async throws {{
        let state = model.makeState()
        var input = try tokenizer.applyChatTemplate(messages: messages)
        var past = 0
        var reply: [Int] = []
        var shown = ""
        while reply.count < maxNewTokens, past + input.count <= contextLength {{
            try Task.checkCancellation()
            let next = try await predictNext(input, past: past, state: state)
            past += input.count
            if eosTokenIds.contains(next) {{ break }}
            reply.append(next)
            let text = tokenizer.decode(tokens: reply)
            if text.hasPrefix(shown), !text.hasSuffix("\\u{{FFFD}}") {{
                emit(String(text.dropFirst(shown.count)))
                shown = text
            }}
            input = [next]
        }}
    }}

    func predictNext(_ ids: [Int], past: Int, state: MLState) async throws -> Int {{
        let n = ids.count
        var features: [String: MLFeatureValue] = [
            Names.inputIds: MLFeatureValue(shapedArray: MLShapedArray<Int32>(scalars: ids.map(Int32.init), shape: [1, n])),
            Names.fullAttentionMask: MLFeatureValue(shapedArray: Self.mask(queries: n, past: past, window: nil)),
        ]
        if let slidingWindow {{
            features[Names.slidingAttentionMask] = MLFeatureValue(shapedArray: Self.mask(queries: n, past: past, window: slidingWindow))
        }}
        let output = try await model.prediction(from: MLDictionaryFeatureProvider(dictionary: features), using: state)
        let logits = MLShapedArray<Float16>(output.featureValue(for: Names.logits)!.multiArrayValue!)
        let row = logits[0][n - 1].scalars
        return row.indices.max(by: {{ row[$0] < row[$1] }})!
    }}

    /// Additive (1, 1, n, past + n) mask: 0 attends, -inf is masked (a later key, or one outside the window).
    static func mask(queries n: Int, past: Int, window: Int?) -> MLShapedArray<Float16> {{
        var scalars = [Float16](repeating: 0, count: n * (past + n))
        for row in 0..<n {{
            let position = past + row
            for key in 0..<(past + n) where key > position || (window.map {{ key <= position - $0 }} ?? false) {{
                scalars[row * (past + n) + key] = -.infinity
            }}
        }}
        return MLShapedArray(scalars: scalars, shape: [1, 1, n, past + n])
    }}

    func checkInterface() throws {{
        let description = model.modelDescription
        var inputs = [Names.inputIds, Names.fullAttentionMask]
        if slidingWindow != nil {{ inputs.append(Names.slidingAttentionMask) }}
        let missing = inputs.filter {{ description.inputDescriptionsByName[$0] == nil }}
            + [Names.logits].filter {{ description.outputDescriptionsByName[$0] == nil }}
            + Names.states.filter {{ description.stateDescriptionsByName[$0] == nil }}
        if !missing.isEmpty {{
            throw InterfaceError(description: "the model has no \\(missing.joined(separator: ", ")): not a package this Generator was written for")
        }}
    }}
}}
"""


def write_swift_package(dest: Path, package: str, context: int, eos: list[int], window: int | None) -> Path:
    """`dest/CabinGenerator/` with Package.swift and Sources/CabinGenerator/Generator.swift; returns the folder."""
    root = dest / FOLDER
    sources = root / "Sources" / FOLDER
    sources.mkdir(parents=True)
    (root / "Package.swift").write_text(
        PACKAGE_SWIFT.format(folder=FOLDER, url=SWIFT_TRANSFORMERS, version=SWIFT_TRANSFORMERS_FROM)
    )
    (sources / "Generator.swift").write_text(
        GENERATOR_SWIFT.format(
            input_ids=INPUT_IDS,
            attention_mask=ATTENTION_MASK,
            sliding_mask=SLIDING_MASK,
            logits=LOGITS,
            key_cache=KEY_CACHE,
            value_cache=VALUE_CACHE,
            context=context,
            window="nil" if window is None else window,
            eos=", ".join(map(str, eos)),
            package=package,
        )
    )
    return root
