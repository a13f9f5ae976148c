"""Markdown to the HTML subset Qt's rich text understands: tables with borders, highlighted code blocks
with a Copy link, and no raw HTML from the model (shown as text, never interpreted).

A message shows its top-level code blocks in code views of their own (app/chat/code_block.py); the code
rendered here is code nested in a list or a quote, wrapped at the view's edge since it cannot scroll."""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

COPY_SCHEME = "copy"


@dataclass(frozen=True)
class Colors:
    """The few colours the HTML needs, taken from the window's palette so light and dark both read well."""

    text: str = "#1d1d1f"
    muted: str = "#6e6e73"
    code_background: str = "#f5f5f7"
    code_header: str = "#e8e8ed"
    border: str = "#d2d2d7"
    link: str = "#0a66d9"
    dark: bool = False

    @property
    def pygments_style(self) -> str:
        return "github-dark" if self.dark else "default"


@dataclass(frozen=True)
class Rendered:
    html: str
    code_blocks: tuple[str, ...]
    """The source of each code block, in order: `copy:N` links refer to them."""


def _code_html(code: str, language: str, index: int, colors: Colors) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    body = (
        highlight(code, lexer, HtmlFormatter(nowrap=True, noclasses=True, style=colors.pygments_style))
        if lexer
        else html.escape(code)
    )
    label = html.escape(language) or "code"
    header = (
        f'<table width="100%" cellspacing="0" cellpadding="0" border="0"><tr>'
        f'<td><span style="color:{colors.muted}">{label}</span></td>'
        f'<td align="right"><a href="{COPY_SCHEME}:{index}" style="color:{colors.link}; text-decoration:none">'
        f"Copy</a></td></tr></table>"
    )
    return (
        f'<table width="100%" cellspacing="0" cellpadding="6" border="1" style="margin-top:6px; margin-bottom:6px;'
        f' border-color:{colors.border}; border-style:solid; border-collapse:collapse">'
        f'<tr><td style="background-color:{colors.code_header}; border-color:{colors.border}">{header}</td></tr>'
        f'<tr><td style="background-color:{colors.code_background}; border-color:{colors.border}">'
        f'<pre style="margin:0; white-space:pre-wrap">{body.rstrip()}</pre></td></tr></table>'
    )


def _parser(colors: Colors, code_blocks: list[str]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

    def fence(_renderer, tokens, idx, _options, _env) -> str:
        token = tokens[idx]
        language = token.info.strip().split(" ")[0] if token.info else ""
        code_blocks.append(token.content)
        return _code_html(token.content, language, len(code_blocks) - 1, colors)

    def table_open(_renderer, _tokens, _idx, _options, _env) -> str:
        return (
            f'<table border="1" cellspacing="0" cellpadding="5"'
            f' style="border-collapse:collapse; border-color:{colors.border}; margin-top:4px; margin-bottom:4px">'
        )

    def code_inline(_renderer, tokens, idx, _options, _env) -> str:
        return f'<code style="background-color:{colors.code_background}">{html.escape(tokens[idx].content)}</code>'

    def th_open(renderer, tokens, idx, options, env) -> str:
        tokens[idx].attrSet("bgcolor", colors.code_header)
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("th_open", th_open)
    md.add_render_rule("fence", fence)
    md.add_render_rule("code_block", fence)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("code_inline", code_inline)
    return md


def render_markdown_once(text: str, colors: Colors = Colors()) -> Rendered:
    """HTML for `text` (an answer still growing: not worth remembering)."""
    code_blocks: list[str] = []
    body = _parser(colors, code_blocks).render(text)
    return Rendered(f'<div style="color:{colors.text}">{body}</div>', tuple(code_blocks))


@lru_cache(maxsize=256)
def render_markdown(text: str, colors: Colors = Colors()) -> Rendered:
    """HTML for `text`, memoised: re-showing a conversation does not re-highlight its code."""
    return render_markdown_once(text, colors)
