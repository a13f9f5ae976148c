"""`--kv-bits` on the `cabin` commands: the answer and the benchmark run with mlx_lm's quantized KV cache."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import cabin

QUESTION = ["--system", "You are a helpful AI assistant.", "--prompt", "What is the capital of France?"]


def test_chat_with_an_8_bit_kv_cache_answers_the_real_models_question(smollm2_model: Path) -> None:
    result = cabin("chat", "--model", str(smollm2_model), "--kv-bits", "8", *QUESTION, "--temp", "0", "--max-tokens", "12")
    assert result.returncode == 0, result.stderr
    assert "Paris" in result.stdout


def test_bench_says_it_ran_with_a_4_bit_kv_cache(smollm2_model: Path) -> None:
    result = cabin("bench", "--model", str(smollm2_model), "--kv-bits", "4", "-p", "16", "-n", "4", "--repeat", "1")
    assert result.returncode == 0, result.stderr
    assert "4-bit KV" in result.stdout


def test_bits_the_cache_does_not_offer_are_refused_by_the_parser() -> None:
    result = cabin("chat", "--model", "x", "--kv-bits", "6", "--prompt", "Hi")
    assert result.returncode == 2 and "invalid choice: 6" in result.stderr
