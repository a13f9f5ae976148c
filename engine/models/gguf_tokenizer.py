"""tokenizer.json + tokenizer_config.json from a GGUF file's `tokenizer.ggml.*` metadata.

transformers builds the fast tokenizer from that metadata (its GGUF converters cover the SentencePiece-style
"llama" and BPE "gpt2" vocabularies that llama.cpp writes); the chat template and BOS/EOS come from the file.
The chat template is kept in tokenizer_config.json, where every reader (transformers, mlx_lm, swift-transformers)
finds it.
"""

from __future__ import annotations

import json
from pathlib import Path

from gguf import GGUFReader

from engine.errors import ModelError
from engine.models.gguf_config import field

JINJA_FILE = "chat_template.jinja"


def write_tokenizer(source: Path, dest: Path, reader: GGUFReader) -> None:
    from transformers import AutoTokenizer
    from transformers.utils import logging

    logging.set_verbosity_error()
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
    except (ValueError, KeyError, TypeError, NotImplementedError) as e:
        raise ModelError(f"could not build the tokenizer of {source.name}: {e}") from None
    tokenizer.save_pretrained(str(dest))
    config_file = dest / "tokenizer_config.json"
    config = json.loads(config_file.read_text())
    for key in ("is_local", "local_files_only"):  # transformers' bookkeeping about where it was read from
        config.pop(key, None)
    if template := field(reader, "tokenizer.chat_template"):
        config["chat_template"] = template
        (dest / JINJA_FILE).unlink(missing_ok=True)
    config_file.write_text(json.dumps(config, indent=2, ensure_ascii=False))
