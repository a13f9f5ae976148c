"""`--draft-model` and `--num-draft-tokens` on `cabin chat`, `serve` and `bench`: the draft's figures on the stats
line and in the benchmark; a draft that cannot draft is one line and exit status 1."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import cabin

QUESTION = ["--system", "You are a helpful AI assistant.", "--prompt", "What is the capital of France?"]


def test_chat_with_a_draft_says_how_many_draft_tokens_were_accepted(llama_model: Path, llama_4bit_twin: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--draft-model", str(llama_4bit_twin), "--num-draft-tokens",
                   "2", *QUESTION, "--temp", "0", "--max-tokens", "12")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "accepted (" in result.stderr and "× vs without" in result.stderr


def test_chat_with_a_draft_of_another_tokenizer_is_one_line_and_status_1(
    llama_model: Path, other_tokenizer_model: Path
) -> None:
    result = cabin("chat", "--model", str(llama_model), "--draft-model", str(other_tokenizer_model), *QUESTION)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "cabin: error: tiny-llama-other-vocab cannot draft for tiny-llama: its tokenizer is not the same "
        "(speculative decoding needs the same vocabulary)"
    ]


def test_a_gguf_model_with_a_draft_says_the_draft_is_mlx_only(tiny_gguf: Path, llama_model: Path) -> None:
    result = cabin("chat", "--model", str(tiny_gguf), "--draft-model", str(llama_model), *QUESTION, "--max-tokens", "4")
    assert result.returncode == 0, result.stderr
    assert "draft models run on MLX only" in result.stderr


def test_bench_with_a_draft_reports_the_speedup_and_acceptance(llama_model: Path, llama_4bit_twin: Path) -> None:
    result = cabin("bench", "--model", str(llama_model), "--draft-model", str(llama_4bit_twin), "-p", "16", "-n", "8",
                   "--repeat", "1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "speculative (draft tiny-llama-4bit, 3 at a time" in result.stdout
    assert "draft tokens accepted" in result.stdout


def test_draft_token_counts_out_of_range_are_refused_by_the_parser() -> None:
    result = cabin("serve", "--model", "x", "--draft-model", "y", "--num-draft-tokens", "0")
    assert result.returncode == 2 and "not a number of draft tokens" in result.stderr
