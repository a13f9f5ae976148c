"""packaging/make_icon.py: the app icon drawn with Qt's painter, the PNG the app loads, and the macOS iconset."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

import make_icon
from app.paths import app_icon_path


@pytest.fixture(scope="module")
def icon(qapp) -> QImage:
    return make_icon.draw_icon()


def test_the_icon_fills_the_macos_grid_tile_and_leaves_the_margin_transparent(icon: QImage) -> None:
    assert (icon.width(), icon.height()) == (1024, 1024)
    assert icon.pixelColor(20, 20).alpha() == 0
    assert icon.pixelColor(512, 150).alpha() == 255
    assert icon.pixelColor(512, 900).alpha() == 255


def test_the_committed_png_is_the_full_size_icon() -> None:
    committed = QImage(str(app_icon_path()))
    assert (committed.width(), committed.height()) == (1024, 1024)


def test_the_iconset_has_every_size_iconutil_expects(qapp, tmp_path: Path) -> None:
    iconset = make_icon.write_iconset(tmp_path / "cabin.iconset")
    sizes = {path.name: QImage(str(path)).width() for path in iconset.iterdir()}
    assert sizes == {
        "icon_16x16.png": 16, "icon_16x16@2x.png": 32, "icon_32x32.png": 32, "icon_32x32@2x.png": 64,
        "icon_128x128.png": 128, "icon_128x128@2x.png": 256, "icon_256x256.png": 256, "icon_256x256@2x.png": 512,
        "icon_512x512.png": 512, "icon_512x512@2x.png": 1024,
    }  # fmt: skip


def test_iconutil_turns_the_iconset_into_an_icns() -> None:
    command = make_icon.iconutil_command(Path("/tmp/cabin.iconset"), Path("/out/cabin.icns"))
    assert command == ["iconutil", "--convert", "icns", "--output", "/out/cabin.icns", "/tmp/cabin.iconset"]


def test_an_icns_is_refused_off_macos(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="only macOS"):
        make_icon.write_icns(tmp_path / "cabin.icns", platform="linux")
    assert not (tmp_path / "cabin.icns").exists()
