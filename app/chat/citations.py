"""The sources under an answer that drew on documents: one link per excerpt it was given ("[1] report.pdf,
p. 3"), opening the file (a PDF at its page where the viewer follows #page=N); the excerpt is the tooltip."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QPalette
from PySide6.QtWidgets import QLabel, QWidget

from engine.library.store import Citation


def citation_url(citation: Citation) -> QUrl:
    url = QUrl.fromLocalFile(citation.path)
    if citation.page is not None:
        url.setFragment(f"page={citation.page}")
    return url


class CitationList(QLabel):
    """"Sources: [1] a.md · [2] b.pdf, p. 3", each a link; hovering one shows the start of its excerpt."""

    def __init__(self, citations: Sequence[Citation]) -> None:
        super().__init__()
        self.citations = list(citations)
        self.setObjectName("citations")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.linkActivated.connect(self.open)
        self.linkHovered.connect(self._hovered)
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        links = " · ".join(
            f'<a href="{html.escape(citation_url(c).toString())}">[{c.rank}] {html.escape(c.label)}</a>'
            for c in self.citations
        )
        self.setText(f'<span style="color: {muted}">Sources:</span> {links}')
        self.setStyleSheet("font-size: 12px")

    def urls(self) -> list[str]:
        return [citation_url(c).toString() for c in self.citations]

    def open(self, link: str) -> None:
        QDesktopServices.openUrl(QUrl(link))

    def _hovered(self, link: str) -> None:
        found = next((c for c in self.citations if citation_url(c).toString() == link), None)
        self.setToolTip(f"{found.path}\n\n{found.excerpt}…" if found else "")


def show_citations(view: QWidget, citations: Sequence[Citation]) -> CitationList | None:
    """Put the sources under a message view's answer, above its footer (replacing any shown before)."""
    old = view.findChild(CitationList)
    if old is not None:
        old.setParent(None)
        old.deleteLater()
    if not citations:
        return None
    widget = CitationList(citations)
    layout = view.layout()
    layout.insertWidget(layout.count() - 1, widget)
    widget.show()  # a layout shows a new child only at the next event loop pass: too late for a grab right after
    return widget
