"""README.md of an ONNX export, for an Android team: what is in the folder, how it was checked, and how to
run it with the ONNX Runtime GenAI AAR from Kotlin, streaming tokens."""

from __future__ import annotations

from engine.memory import format_bytes
from engine.onnx.export import OnnxExportSummary

KOTLIN = '''```kotlin
import ai.onnxruntime.genai.Generator
import ai.onnxruntime.genai.GeneratorParams
import ai.onnxruntime.genai.Model
import ai.onnxruntime.genai.Tokenizer

// modelDir: this folder, copied to the app's files (e.g. context.filesDir/"model"); run off the main thread.
fun stream(modelDir: String, prompt: String, onToken: (String) -> Unit) {
    Model(modelDir).use { model ->
        Tokenizer(model).use { tokenizer ->
            tokenizer.createStream().use { stream ->
                GeneratorParams(model).use { params ->
                    params.setSearchOption("max_length", %(context)d.0)
                    Generator(model, params).use { generator ->
                        generator.appendTokenSequences(tokenizer.encode(prompt))
                        while (!generator.isDone()) {
                            generator.generateNextToken()
                            onToken(stream.decode(generator.getLastTokenInSequence(0)))
                        }
                    }
                }
            }
        }
    }
}
```'''


def checks(summary: OnnxExportSummary) -> str:
    lines = []
    if summary.greedy_tokens is not None:
        lines.append(f"- Greedy decoding of a fixed prompt: the first {summary.greedy_same_prefix} of "
                     f"{summary.greedy_tokens} tokens equal MLX float32's.")  # fmt: skip
    if summary.fidelity is not None:
        lines.append(f"- Fixed text, teacher-forced: {summary.fidelity.describe()}.")
    return "\n".join(lines) or "- No checks were run (--no-verify)."


def readme(summary: OnnxExportSummary) -> str:
    from importlib.metadata import version as installed

    version = f"onnxruntime-genai {installed('onnxruntime-genai')}"
    return f"""# {summary.source_model.split('/')[-1]} for ONNX Runtime GenAI ({summary.precision})

Exported by Cabin from `{summary.source_model}` ({summary.architecture}, {summary.parameters / 1e6:.0f}M parameters)
with ONNX Runtime GenAI's model builder: a decoder with a KV cache, context {summary.context} tokens,
{format_bytes(summary.export_bytes)} in all.

| file | what |
|---|---|
| `model.onnx`, `model.onnx.data` | the model (int4 weights are `MatMulNBits`) |
| `genai_config.json` | how ONNX Runtime GenAI runs it (inputs, KV cache, EOS, search defaults) |
| `tokenizer.json`, `tokenizer_config.json` | the tokenizer (and its chat template) |
| `manifest.json` | every file with its SHA-256, the recipe and the checks below |

## Checked before it was written
Run on Linux with the same runtime an Android app uses (ONNX Runtime GenAI, CPU), against the source model
in MLX float32:

{checks(summary)}

## Android
Add the ONNX Runtime GenAI Android AAR (`onnxruntime-genai-android-<version>.aar` from the onnxruntime-genai
GitHub releases; this folder was checked with {version}) to `app/libs` with
`implementation(files("libs/onnxruntime-genai-android-<version>.aar"))`, and ONNX Runtime itself
(`implementation("com.microsoft.onnxruntime:onnxruntime-android:<version>")`, Maven Central) beside it. Ship this folder with the app (or download it
on first run) and point `Model` at it. The prompt is plain text: apply the chat template from
`tokenizer_config.json` yourself (or use `Tokenizer.applyChatTemplate` where your AAR version has it).
The Java API is still marked preview: check the method names below against the AAR version you add.

{KOTLIN % {"context": summary.context}}
"""
