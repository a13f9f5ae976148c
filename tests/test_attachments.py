"""Attached files: their text read out, how they read to the model, whether they fit, and how many tokens they are."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.attachments import AttachmentError, Room, file_block, read_attachment, readable_text
from engine.chat_template import template_messages
from engine.conversations.parts_json import decode, encode
from engine.errors import ModelError
from engine.generation import Engine
from engine.messages import File, Message, Text, user


def test_a_markdown_file_is_read_as_its_text(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Plan\n\n- ship it\n", encoding="utf-8")
    assert read_attachment(path) == File(name="notes.md", media_type="text/markdown", text="# Plan\n\n- ship it\n")


def test_code_with_any_suffix_is_read_when_it_is_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "prime.rs"
    path.write_text("fn main() { println!(\"é\"); }\n", encoding="utf-8-sig")
    assert read_attachment(path).text == "fn main() { println!(\"é\"); }\n"


def test_a_pdf_is_read_page_by_page(report_pdf: Path) -> None:
    text = read_attachment(report_pdf).text
    assert "Revenue grew by 12 percent" in text and text.index("Quarterly") < text.index("Outlook: steady")


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("photo.png", b"\x89PNG\r\n\x1a\n", "photo.png is an image: a vision model reads images"),
        ("model.bin", b"\x00\x01\x02weights", "model.bin is not a text file"),
        ("latin.txt", "café".encode("latin-1"), "latin.txt is not UTF-8 text"),
        ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf", "broken.pdf could not be read as a PDF"),
        ("empty.txt", b"  \n", "empty.txt has no text to read"),
    ],
)
def test_what_cannot_be_read_is_refused_in_one_line(tmp_path: Path, name: str, content: bytes, says: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AttachmentError, match=says) as refused:
        read_attachment(tmp_path / name)
    assert "\n" not in str(refused.value)


def test_an_encrypted_pdf_is_refused(locked_pdf: Path) -> None:
    with pytest.raises(AttachmentError, match="locked.pdf is encrypted: save an unlocked copy"):
        read_attachment(locked_pdf)


def test_a_file_reads_to_the_model_as_a_fenced_block_headed_by_its_name() -> None:
    message = Message("user", (File(name="prime.py", text="def is_prime(n):\n    ...\n"), Text("Explain this.")))
    assert readable_text(message) == "prime.py\n```\ndef is_prime(n):\n    ...\n```\n\nExplain this."


def test_the_fence_is_longer_than_any_fence_inside_the_file() -> None:
    block = file_block(File(name="README.md", text="Run:\n```sh\nmake\n```"))
    assert block.startswith("README.md\n````\n") and block.endswith("\n````")


def test_a_chat_template_sees_the_file_in_the_users_message() -> None:
    message = Message("user", (File(name="a.txt", text="alpha"), Text("What is this?")))
    assert template_messages([message]) == [{"role": "user", "content": "a.txt\n```\nalpha\n```\n\nWhat is this?"}]


def test_plain_messages_read_exactly_as_before() -> None:
    assert readable_text(user("Hello")) == "Hello"


def test_a_file_part_keeps_its_text_and_token_count_in_the_store() -> None:
    parts = (File(name="a.txt", media_type="text/plain", text="alpha", tokens=3), Text("Hi"))
    assert decode(encode(parts)) == parts


def test_a_file_that_would_overflow_the_context_is_refused_with_the_numbers() -> None:
    room = Room.of(context_length=4096, used=484, max_tokens=512)
    assert room.refusal("report.pdf", 41_200) == "report.pdf is 41,200 tokens; this conversation has room for 3,100 of 4,096."
    assert room.refusal("notes.md", 3_100) is None


def test_tokens_are_counted_with_the_loaded_models_tokenizer(llama_engine: Engine, llama_model: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(llama_model)
    text = "def is_prime(n):\n    return n > 1"
    assert llama_engine.count_tokens(text).result() == len(tokenizer.encode(text, add_special_tokens=False))


def test_a_prompt_is_counted_with_its_chat_template(llama_engine: Engine) -> None:
    bare = llama_engine.count_tokens("Hi").result()
    assert llama_engine.count_prompt([user("Hi")]).result() > bare


def test_counting_without_a_model_says_why(engine: Engine) -> None:
    with pytest.raises(ModelError, match="no model is loaded"):
        engine.count_tokens("Hi").result()
