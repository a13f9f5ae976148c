"""A tiny random sentence encoder (a transformers BertModel with a word-piece vocabulary), built locally."""

from __future__ import annotations

from pathlib import Path

WORDS = ("the cat dog sat on a mat ran in park sun is hot cold weather today stock market fell rose price bank "
         "river water fish bird sky blue red green hello world").split()  # fmt: skip


def build_encoder(dest: Path, seed: int = 0) -> Path:
    """Save a 2-layer, 32-wide BertModel with random weights and its tokenizer in `dest`."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    dest.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS, *"abcdefghijklmnopqrstuvwxyz"]
    (dest / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(dest / "vocab.txt")).save_pretrained(str(dest))
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=64, max_position_embeddings=64)  # fmt: skip
    BertModel(config).eval().save_pretrained(str(dest))
    return dest


def reference_embeddings(path: Path, texts: list[str]) -> list[list[float]]:
    """Mean-pooled, L2-normalised embeddings by transformers (torch) on the same weights."""
    import torch
    from transformers import AutoTokenizer, BertModel

    tokenizer, model = AutoTokenizer.from_pretrained(str(path)), BertModel.from_pretrained(str(path)).eval()
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"][..., None].float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    return torch.nn.functional.normalize(pooled, dim=-1).tolist()
