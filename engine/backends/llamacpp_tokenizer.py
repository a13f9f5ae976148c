"""A GGUF model's own tokenizer (llama.cpp's) with the Hugging Face surface the engine reads.

The engine renders prompts, counts tokens and fits the context through `encode`, `decode`,
`apply_chat_template`, `chat_template`, `bos_token(_id)` and `vocab_size` (engine/generation/turn.py). Here
those run on llama.cpp's vocabulary, so the ids are exactly the ones llama.cpp evaluates, and the chat template
from the GGUF metadata is rendered by transformers' own Jinja renderer (`render_jinja_template`), the code
behind `apply_chat_template` on the MLX side: the same template gives the same prompt on both backends.
"""

from __future__ import annotations

import codecs
import functools
import warnings
from collections.abc import Sequence
from typing import Any


class LlamaCppTokenizer:
    """Wraps a loaded `llama_cpp.Llama`; plain calls into its vocabulary (no context state)."""

    def __init__(self, llama: Any) -> None:
        self._llama = llama
        self._vocab = llama._model  # llama_cpp._internals.LlamaModel: token ids, pieces, EOG
        metadata = llama.metadata
        self.chat_template: str | None = metadata.get("tokenizer.chat_template") or None
        self.vocab_size: int = llama.n_vocab()
        self.bos_token_id: int | None = self._special_id(self._vocab.token_bos())
        self.eos_token_id: int | None = self._special_id(self._vocab.token_eos())
        self.bos_token = self._piece(self.bos_token_id)
        self.eos_token = self._piece(self.eos_token_id)
        self.spm_space_prefix = (
            metadata.get("tokenizer.ggml.model") == "llama" and metadata.get("tokenizer.ggml.add_space_prefix", "true") == "true"
        )
        """SentencePiece vocabularies write a word's leading space into its piece: the first piece of a text drops it."""
        self._tool_family()

    def _tool_family(self) -> None:
        """The attributes engine/tools/format.py reads from mlx_lm's tokenizer wrapper (`has_tool_calling`,
        `tool_parser`, `tool_call_start`/`_end`, `init_kwargs["tool_parser_type"]`), found the way mlx_lm finds them:
        its `_infer_tool_parser` on the chat template (then the vocabulary), and its parser module for that family."""
        import importlib

        from mlx_lm.tokenizer_utils import _infer_tool_parser

        family = _infer_tool_parser(self) if self.chat_template and "tools" in self.chat_template else None
        module = importlib.import_module(f"mlx_lm.tool_parsers.{family}") if family else None
        self.init_kwargs: dict[str, Any] = {"tool_parser_type": family} if family else {}
        self.tool_parser = module.parse_tool_call if module else None
        self.tool_call_start: str | None = module.tool_call_start if module else None
        self.tool_call_end: str | None = module.tool_call_end if module else None
        self.has_tool_calling = self.tool_call_start is not None

    def get_vocab(self) -> dict[str, int]:
        """Every token's text (special tokens spelled out) -> its id."""
        return {self._llama.detokenize([token], special=True).decode("utf-8", "replace"): token for token in range(self.vocab_size)}

    @functools.cached_property
    def all_special_ids(self) -> list[int]:
        """Control tokens (`<|im_start|>`, `<tool_call>` where it is one): a grammar must match them as tokens."""
        import llama_cpp

        vocab = self._vocab.vocab
        control = llama_cpp.LLAMA_TOKEN_ATTR_CONTROL
        return [token for token in range(self.vocab_size) if llama_cpp.llama_vocab_get_attr(vocab, token) & control]

    @staticmethod
    def _special_id(token: int) -> int | None:
        return token if token >= 0 else None

    def _piece(self, token: int | None) -> str | None:
        return None if token is None else self._llama.detokenize([token], special=True).decode("utf-8", "replace")

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        """Special tokens written in `text` (a chat template's `<|im_start|>`) become their ids, as in transformers."""
        add_bos = add_special_tokens and self._vocab.add_bos_token()
        return self._llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = False) -> str:
        text = self._llama.detokenize(list(ids), special=not skip_special_tokens).decode("utf-8", "replace")
        return text[1:] if self.spm_space_prefix and text.startswith(" ") else text

    def piece(self, token: int) -> bytes:
        """The bytes one token writes (a special token writes none); part of a character, perhaps."""
        return self._llama.detokenize([token])

    def is_end_of_generation(self, token: int) -> bool:
        """EOS, or any other token the model ends a turn with (`<|im_end|>`, `<|eot_id|>`)."""
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._vocab.vocab, token))

    def lltokenizer(self) -> Any:
        """llguidance's view of this vocabulary (for a grammar, engine/structured/matcher.py), every
        end-of-generation token as its EOS; ~1 s to build, so the matcher keeps it."""
        import llama_cpp
        from llguidance.llamacpp import lltokenizer_from_vocab

        vocab = self._vocab.vocab
        ends = [token for token in range(self.vocab_size) if llama_cpp.llama_vocab_is_eog(vocab, token)]
        with warnings.catch_warnings():  # llguidance calls llama_token_get_attr, deprecated: one warning per token
            warnings.simplefilter("ignore", DeprecationWarning)
            return lltokenizer_from_vocab(vocab, n_vocab=self.vocab_size, eos_token=ends)

    def apply_chat_template(
        self,
        messages: list[dict[str, Any]],
        tokenize: bool = False,
        add_generation_prompt: bool = False,
        tools: list[dict[str, Any]] | None = None,
        **kwargs: Any,
    ) -> str | list[int]:
        """The template rendered exactly as a Hugging Face tokenizer renders it (its special tokens passed in)."""
        from transformers.utils.chat_template_utils import render_jinja_template

        if not self.chat_template:
            raise ValueError("this model has no chat template")
        special = {name: value for name, value in (("bos_token", self.bos_token), ("eos_token", self.eos_token)) if value}
        rendered, _ = render_jinja_template(
            conversations=[messages],
            tools=tools,
            chat_template=self.chat_template,
            add_generation_prompt=add_generation_prompt,
            **{**special, **kwargs},
        )
        text = rendered[0]
        return self.encode(text, add_special_tokens=False) if tokenize else text


class Utf8Stream:
    """Token pieces as text: bytes held back until they complete a character, like mlx_lm's streaming detokenizer."""

    def __init__(self, tokenizer: LlamaCppTokenizer) -> None:
        self._tokenizer = tokenizer
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._strip_space = tokenizer.spm_space_prefix
        """An answer's first word drops the space its SentencePiece piece starts with, as in mlx_lm and transformers."""

    def feed(self, token: int) -> str:
        text = self._decoder.decode(self._tokenizer.piece(token))
        if self._strip_space and text:
            text, self._strip_space = text.removeprefix(" "), False
        return text

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)
