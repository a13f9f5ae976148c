"""Draw Cabin's app icon with Qt's painter (no downloaded art) and turn it into what each platform uses.

    python packaging/make_icon.py            # resources/cabin.png (1024 px, committed; the Linux app and the window use it)
    python packaging/make_icon.py --icns     # also resources/cabin.icns through iconutil (macOS only; Cabin.app uses it)

The drawing follows macOS's icon grid: an 824 px rounded square centred on a 1024 px transparent canvas.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath, QRadialGradient  # noqa: E402

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
CANVAS = 1024
TILE = QRectF(100, 100, 824, 824)
ICONSET_SIZES = (16, 32, 128, 256, 512)
"""iconutil wants each of these at 1x and 2x (icon_16x16.png, icon_16x16@2x.png, …)."""
STARS = ((250, 260, 7), (370, 200, 5), (640, 230, 6), (760, 330, 8), (520, 310, 4), (300, 400, 4), (700, 430, 5))


def draw_icon(size: int = CANVAS) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.scale(size / CANVAS, size / CANVAS)
    tile = QPainterPath()
    tile.addRoundedRect(TILE, 185, 185)
    painter.setClipPath(tile)
    draw_sky(painter)
    draw_hill(painter)
    draw_cabin(painter)
    painter.end()
    return image


def draw_sky(painter: QPainter) -> None:
    sky = QLinearGradient(0, TILE.top(), 0, TILE.bottom())
    sky.setColorAt(0, QColor("#0f1b3d"))
    sky.setColorAt(1, QColor("#35508f"))
    painter.fillRect(TILE, sky)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#fdf3d0"))
    for x, y, radius in STARS:
        painter.drawEllipse(QPointF(x, y), radius, radius)
    moon, shadow = QPainterPath(), QPainterPath()
    moon.addEllipse(QPointF(745, 215), 46, 46)
    shadow.addEllipse(QPointF(768, 200), 42, 42)
    painter.drawPath(moon.subtracted(shadow))


def draw_hill(painter: QPainter) -> None:
    hill = QPainterPath(QPointF(TILE.left(), 800))
    hill.cubicTo(QPointF(350, 700), QPointF(680, 700), QPointF(TILE.right(), 780))
    hill.lineTo(TILE.bottomRight())
    hill.lineTo(TILE.bottomLeft())
    hill.closeSubpath()
    painter.setBrush(QColor("#1f3b2c"))
    painter.drawPath(hill)


def draw_cabin(painter: QPainter) -> None:
    glow = QRadialGradient(QPointF(512, 600), 260)
    glow.setColorAt(0, QColor(255, 196, 92, 120))
    glow.setColorAt(1, QColor(255, 196, 92, 0))
    painter.setBrush(glow)
    painter.drawEllipse(QPointF(512, 600), 260, 260)
    painter.setBrush(QColor("#5b3a1f"))
    painter.drawRect(QRectF(610, 360, 52, 120))  # chimney
    painter.setBrush(QColor("#9a6232"))
    painter.drawRect(QRectF(330, 520, 364, 240))  # walls
    painter.setBrush(QColor("#7a4a24"))
    for y in range(560, 760, 50):  # log seams
        painter.drawRect(QRectF(330, y, 364, 8))
    roof = QPainterPath(QPointF(290, 540))
    roof.lineTo(512, 360)
    roof.lineTo(734, 540)
    roof.closeSubpath()
    painter.setBrush(QColor("#4a2c16"))
    painter.drawPath(roof)
    painter.setBrush(QColor("#ffd166"))
    painter.drawRoundedRect(QRectF(380, 590, 110, 95), 12, 12)  # lit window
    painter.setBrush(QColor("#c98f3a"))
    painter.drawRect(QRectF(431, 590, 8, 95))
    painter.drawRect(QRectF(380, 633, 110, 8))
    painter.setBrush(QColor("#3b2413"))
    painter.drawRoundedRect(QRectF(560, 610, 86, 150), 10, 10)  # door


def write_png(dest: Path, size: int = CANVAS) -> Path:
    if not draw_icon(size).save(str(dest)):
        raise OSError(f"could not write {dest}")
    return dest


def iconset_files(size: int) -> list[tuple[str, int]]:
    """(file name, pixels) for one iconset entry, at 1x and 2x."""
    return [(f"icon_{size}x{size}.png", size), (f"icon_{size}x{size}@2x.png", size * 2)]


def write_iconset(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for size in ICONSET_SIZES:
        for name, pixels in iconset_files(size):
            write_png(folder / name, pixels)
    return folder


def iconutil_command(iconset: Path, dest: Path) -> list[str]:
    return ["iconutil", "--convert", "icns", "--output", str(dest), str(iconset)]


def write_icns(dest: Path, platform: str = sys.platform) -> Path:
    """Cabin.app's icon. iconutil exists only on macOS."""
    if platform != "darwin":
        raise RuntimeError("an .icns is made with iconutil, which only macOS has")
    with tempfile.TemporaryDirectory() as folder:
        iconset = write_iconset(Path(folder) / "cabin.iconset")
        subprocess.run(iconutil_command(iconset, dest), check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--icns", action="store_true", help="also make resources/cabin.icns (macOS only)")
    parser.add_argument("--out", type=Path, default=RESOURCES, help="folder to write into (default: resources/)")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication([])
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {write_png(args.out / 'cabin.png')}")
    if args.icns:
        print(f"wrote {write_icns(args.out / 'cabin.icns')}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
