"""`cabin chat --image`: an image in the question for a vision model; one line and exit 1 for anything else."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import cabin, prompt_tokens
from tests.vision_factory import VisionSpec, image_tokens, png_bytes


def picture(tmp_path: Path) -> Path:
    (tmp_path / "red.png").write_bytes(png_bytes((200, 30, 30)))
    return tmp_path / "red.png"


def test_chat_puts_the_image_into_the_question(vision_model: Path, tmp_path: Path) -> None:
    ask = ("chat", "--model", str(vision_model), "--prompt", "What is this?", "--max-tokens", "4", "--temp", "0")
    bare, with_image = cabin(*ask), cabin(*ask, "--image", str(picture(tmp_path)))
    assert with_image.returncode == 0, with_image.stderr
    assert prompt_tokens(with_image) >= prompt_tokens(bare) + image_tokens(VisionSpec())


def test_a_text_only_model_refuses_an_image_in_one_line_and_exit_1(llama_model: Path, tmp_path: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--prompt", "Hi", "--image", str(picture(tmp_path)))
    assert result.returncode == 1
    assert result.stderr == "cabin: error: tiny-llama reads text only: load a vision model to ask about images\n"


def test_an_image_that_is_no_picture_is_one_line_and_exit_1(vision_model: Path, tmp_path: Path) -> None:
    (tmp_path / "cat.png").write_bytes(b"\x89PNG broken")
    result = cabin("chat", "--model", str(vision_model), "--prompt", "Hi", "--image", str(tmp_path / "cat.png"))
    assert result.returncode == 1
    assert result.stderr.startswith("cabin: error: cat.png is not an image Cabin can read") and result.stderr.count("\n") == 1


def test_chat_reads_the_image_with_a_ggufs_projector_and_says_only_the_stats(llava_gguf_pair: tuple[Path, Path],
                                                                             tmp_path: Path) -> None:
    """llama.cpp's multimodal library logs to stderr on its own: Cabin keeps it quiet (the stats line alone)."""
    ask = ("chat", "--model", str(llava_gguf_pair[0]), "--prompt", "What is this?", "--max-tokens", "4", "--temp", "0")
    bare, with_image = cabin(*ask), cabin(*ask, "--image", str(picture(tmp_path)))
    assert with_image.returncode == 0, with_image.stderr
    assert prompt_tokens(with_image) == prompt_tokens(bare) + 4  # the tiny projector's 2x2 image tokens
    assert with_image.stderr.count("\n") == 1 and "tok/s" in with_image.stderr
