"""Light and dark: the palette follows the system's scheme, and the chat's colours follow the palette."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.theme import chat_colors, is_dark, palette_for


def test_a_dark_system_scheme_gives_a_dark_palette(qapp) -> None:
    assert is_dark(palette_for(Qt.ColorScheme.Dark, qapp))


def test_a_light_or_unknown_scheme_gives_the_light_palette(qapp) -> None:
    assert not is_dark(palette_for(Qt.ColorScheme.Light, qapp))
    assert not is_dark(palette_for(Qt.ColorScheme.Unknown, qapp))


def test_chat_colours_follow_the_palette(qapp) -> None:
    dark = chat_colors(palette_for(Qt.ColorScheme.Dark, qapp))
    light = chat_colors(palette_for(Qt.ColorScheme.Light, qapp))
    assert dark.dark and not light.dark
    assert dark.code_background != light.code_background


def test_on_macos_the_native_style_keeps_following_the_system(qapp, monkeypatch) -> None:
    from app.theme import apply_system_scheme

    monkeypatch.setattr("sys.platform", "darwin")
    style = qapp.style().name()
    apply_system_scheme(qapp)
    assert qapp.style().name() == style
