"""A small time-series plot drawn with QPainter: a title, the latest value of each line, and the lines.

Light on purpose (QtCharts would pull in PySide6-Addons). The newest point sits at the right edge;
points move left as new ones arrive, `capacity` of them filling the width. The y axis starts at 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

TITLE_HEIGHT = 18
PADDING = 6
HEADROOM = 1.15


@dataclass(frozen=True)
class Line:
    name: str
    color: QColor
    values: list[float]


class Sparkline(QWidget):
    def __init__(self, title: str, formatter: Callable[[float], str], capacity: int) -> None:
        super().__init__()
        self.title = title
        self.formatter = formatter
        self.capacity = capacity
        self.lines: list[Line] = []
        self.ceiling: float | None = None
        self.empty_text = "No data yet"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(160)

    def sizeHint(self) -> QSize:  # noqa: N802 — Qt override
        return QSize(240, 96)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 — Qt override
        return QSize(160, 96)

    def set_lines(self, lines: list[Line], ceiling: float | None = None) -> None:
        """Show `lines`; the y axis goes up to `ceiling` when given (e.g. total memory), else above the highest value."""
        self.lines, self.ceiling = lines, ceiling
        self.setToolTip(self._summary())
        self.update()

    def latest(self) -> list[float]:
        return [line.values[-1] for line in self.lines if line.values]

    def _summary(self) -> str:
        return "\n".join(f"{line.name}: {self.formatter(line.values[-1])}" for line in self.lines if line.values)

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 — Qt override
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.setBrush(palette.color(QPalette.ColorRole.Base))
        painter.drawRoundedRect(frame, 6, 6)
        self._paint_header(painter, frame)
        plot = frame.adjusted(PADDING, TITLE_HEIGHT + PADDING, -PADDING, -PADDING)
        if not any(line.values for line in self.lines):
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(plot, Qt.AlignmentFlag.AlignCenter, self.empty_text)
            return
        highest = max(max(line.values) for line in self.lines if line.values)
        top = self.ceiling or highest * HEADROOM or 1.0
        self._paint_scale(painter, plot, top, labelled=bool(self.ceiling or highest))
        for index, line in enumerate(self.lines):
            self._paint_line(painter, plot, top, line, fill=index == 0)

    def _paint_header(self, painter: QPainter, frame: QRectF) -> None:
        header = frame.adjusted(PADDING + 2, 3, -PADDING - 2, 0)
        header.setHeight(TITLE_HEIGHT)
        small = QFont(self.font())
        small.setPointSizeF(max(small.pointSizeF() - 1, 7))
        painter.setFont(small)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(header, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title)
        right = header.right()
        named = len(self.lines) > 1
        for line in reversed(self.lines):
            if not line.values:
                continue
            text = f"{line.name} {self.formatter(line.values[-1])}" if named else self.formatter(line.values[-1])
            width = painter.fontMetrics().horizontalAdvance(text)
            painter.setPen(line.color)
            painter.drawText(QRectF(right - width, header.top(), width, header.height()),
                             Qt.AlignmentFlag.AlignVCenter, text)
            right -= width + 10

    def _paint_scale(self, painter: QPainter, plot: QRectF, top: float, labelled: bool) -> None:
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText)
        grid = QColor(muted)
        grid.setAlpha(60)
        painter.setPen(QPen(grid, 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(plot.left(), plot.top()), QPointF(plot.right(), plot.top()))
        painter.drawLine(QPointF(plot.left(), plot.bottom()), QPointF(plot.right(), plot.bottom()))
        if not labelled:  # all zeros: a scale of "1 B" would mean nothing
            return
        painter.setPen(muted)
        painter.drawText(plot.adjusted(2, 1, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                         self.formatter(top))

    def _points(self, plot: QRectF, top: float, values: list[float]) -> list[QPointF]:
        step = plot.width() / max(self.capacity - 1, 1)
        start = plot.right() - step * (len(values) - 1)
        return [QPointF(start + i * step, plot.bottom() - plot.height() * v / top) for i, v in enumerate(values)]

    def _paint_line(self, painter: QPainter, plot: QRectF, top: float, line: Line, fill: bool) -> None:
        points = self._points(plot, top, line.values[-self.capacity :])
        if not points:
            return
        if len(points) == 1:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(line.color)
            painter.drawEllipse(points[0], 2.5, 2.5)
            return
        path = QPainterPath(points[0])
        for point in points[1:]:
            path.lineTo(point)
        if fill:
            area = QPainterPath(path)
            area.lineTo(points[-1].x(), plot.bottom())
            area.lineTo(points[0].x(), plot.bottom())
            shade = QColor(line.color)
            shade.setAlpha(40)
            painter.fillPath(area, shade)
        painter.setPen(QPen(line.color, 1.6))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
