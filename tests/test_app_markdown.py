"""Markdown rendering for the chat: what Qt's rich text can show, and nothing the model could inject."""

from __future__ import annotations

from app.chat.markdown import Colors, render_markdown


def test_code_blocks_are_highlighted_and_copyable() -> None:
    rendered = render_markdown("```python\ndef f():\n    return 1\n```")
    assert rendered.code_blocks == ("def f():\n    return 1\n",)
    assert 'href="copy:0"' in rendered.html
    assert "<span style=" in rendered.html and ">def</span>" in rendered.html


def test_a_code_block_in_an_unknown_language_is_shown_plain() -> None:
    rendered = render_markdown("```nosuchlang\na < b\n```")
    assert "a &lt; b" in rendered.html and rendered.code_blocks == ("a < b\n",)


def test_each_code_block_gets_its_own_copy_link() -> None:
    rendered = render_markdown("```\none\n```\n\ntext\n\n```\ntwo\n```")
    assert rendered.code_blocks == ("one\n", "two\n")
    assert 'href="copy:1"' in rendered.html


def test_tables_get_borders() -> None:
    html = render_markdown("| a | b |\n|---|---|\n| 1 | 2 |").html
    assert '<table border="1"' in html and "<td>1</td>" in html


def test_headings_and_lists() -> None:
    html = render_markdown("# Title\n\n- one\n- two").html
    assert "<h1>Title</h1>" in html and "<li>one</li>" in html


def test_raw_html_from_the_model_is_shown_as_text() -> None:
    html = render_markdown('<img src="x" onerror="alert(1)"> <b>bold?</b>').html
    assert "<img" not in html and "&lt;b&gt;" in html


def test_dark_colours_use_a_dark_highlighting_style() -> None:
    light = render_markdown("```python\nx = 1\n```", Colors()).html
    dark = render_markdown("```python\nx = 1\n```", Colors(dark=True)).html
    assert light != dark


def test_code_nested_in_a_list_wraps_at_the_edge_of_the_view() -> None:
    html = render_markdown("- step:\n\n  ```\n  a very long line\n  ```").html
    assert 'white-space:pre-wrap' in html
