"""The two tables of the Models pane: models on this machine, and the catalogue (or Hub search results).

What each row says, from the pane's state (the stored models, the memory budget, the search results); the
pane (app/models/pane.py) fills its tables with them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QWidget

from engine.memory import format_bytes
from engine.models.fit import Fit, Verdict
from engine.models.folder import ModelInfo
from engine.models.hub import HubModel
from engine.models.recommend import Suggestion, suggest
from engine.models.store import StoredModel
from engine.models.text import format_ago, format_count

FIT_COLORS = {Verdict.FITS: "#2e9d4a", Verdict.TIGHT: "#c98a00", Verdict.WONT_FIT: "#d23c3c"}
KEY_ROLE = Qt.ItemDataRole.UserRole
BADGES_ROLE = Qt.ItemDataRole.UserRole + 1
"""A cell's capability badges (e.g. ("thinking", "tools")), drawn as small labels over the cell."""
BADGE_HEIGHT = 15
BADGE_COLORS = {"thinking": "#7b5cd6", "vision": "#1f8a8a", "tools": "#5b6b82"}
BADGE_TIPS = {"thinking": "reasons before answering", "vision": "can read images", "tools": "can call tools (functions)"}


def make_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setShowGrid(False)
    table.verticalHeader().hide()
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    return table


def cell(text: str, key: str | None = None, tooltip: str = "", color: str | None = None) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    if key is not None:
        item.setData(KEY_ROLE, key)
    if tooltip:
        item.setToolTip(tooltip)
    if color:
        item.setForeground(QColor(color))
    return item


def fit_cell(fit: Fit | None) -> QTableWidgetItem:
    if fit is None:
        return cell("…", tooltip="checking this machine's memory")
    return cell(fit.verdict.value, tooltip=fit.describe(), color=FIT_COLORS[fit.verdict])


def badge_cell(names: tuple[str, ...]) -> QTableWidgetItem:
    """A cell shown as badges (see `fill`); its text stays empty, its tooltip says what they mean."""
    item = cell("", tooltip="; ".join(f"{n}: {BADGE_TIPS[n]}" for n in names))
    item.setData(BADGES_ROLE, names)
    return item


def badges(names: tuple[str, ...]) -> QWidget:
    """Small coloured labels, one per name, left-aligned in their cell."""
    widget = QWidget()
    row = QHBoxLayout(widget)
    row.setContentsMargins(4, 0, 4, 0)
    row.setSpacing(3)
    for name in names:
        label = QLabel(name)
        label.setToolTip(BADGE_TIPS[name])
        label.setStyleSheet(f"background: {BADGE_COLORS[name]}; color: white; border-radius: 7px;"
                            " padding: 0px 6px; font-size: 10px")  # fmt: skip
        label.setFixedHeight(BADGE_HEIGHT)
        row.addWidget(label, 0, Qt.AlignmentFlag.AlignVCenter)
    row.addStretch(1)
    return widget


def fill(table: QTableWidget, rows: list[list[QTableWidgetItem]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, item in enumerate(row):
            table.setItem(r, c, item)
            names = item.data(BADGES_ROLE)
            if names:
                table.setCellWidget(r, c, badges(names))
            else:
                table.removeCellWidget(r, c)


def select_key(table: QTableWidget, key: str) -> None:
    rows = [r for r in range(table.rowCount()) if table.item(r, 0).data(KEY_ROLE) == key]
    if rows:
        table.selectRow(rows[0])


def selected_key(table: QTableWidget) -> str | None:
    rows = table.selectionModel().selectedRows()
    return table.item(rows[0].row(), 0).data(KEY_ROLE) if rows else None


INSTALLED_HEADERS = ["Model", "Architecture", "Parameters", "Bits", "Size", "Last used", "Fit"]


def shown_name(model: StoredModel) -> str:
    """Repo ids as they are; a converted or added folder by its name and where it came from; a GGUF file run as it is
    by its name (an Ollama blob's model name) and its runtime."""
    if model.source == "gguf":
        return f"{model.label}  ·  GGUF on llama.cpp"
    return model.key if model.source == "hub" else f"{model.path.name}  ·  {model.source}"


def bits_text(info: ModelInfo) -> str:
    return info.quant or (f"{info.bits}-bit" if info.bits else "unquantized")


def installed_row(model: StoredModel, fit: Fit | None) -> list[QTableWidgetItem]:
    name = cell(shown_name(model), model.key, tooltip=str(model.path))
    size, used = cell(format_bytes(model.size_bytes)), cell(format_ago(model.last_used))
    if model.info is None:
        problem = cell(model.status, tooltip=model.status, color=FIT_COLORS[Verdict.WONT_FIT])
        return [name, cell("—"), cell("—"), cell("—"), size, used, problem]
    info = model.info
    return [name, cell(info.type_label), cell(format_count(info.parameters)), cell(bits_text(info)), size, used,
            fit_cell(fit)]  # fmt: skip


CATALOGUE_HEADERS = ["Model", "Use", "", "Parameters", "Size", "Needs", "Fit", ""]


def catalogue_row(suggestion: Suggestion | None, entry_state: str, key: str, fit_known: bool) -> list[QTableWidgetItem]:
    if suggestion is None:
        return [cell(key, key), cell("Hub search"), cell(""), cell("—"), cell("—"), cell("—"), cell("—"), cell(entry_state)]
    entry = suggestion.entry
    use = entry.use + (" (mlx-vlm)" if entry.use == "vision" else "")
    state = entry_state or ("recommended" if suggestion.recommended and fit_known else "")
    return [
        cell(entry.repo_id, entry.repo_id, tooltip=entry.note),
        cell(use),
        badge_cell(entry.capabilities),
        cell(format_count(entry.parameters)),
        cell(f"~{format_bytes(entry.size_bytes)}"),
        cell(f"~{format_bytes(suggestion.fit.needed)}"),
        fit_cell(suggestion.fit if fit_known else None),
        cell(state, color="#3d86f0" if state == "recommended" else None),
    ]


def search_row(model: HubModel, entry_state: str) -> list[QTableWidgetItem]:
    downloads = f"{model.downloads:,} downloads"
    return [cell(model.repo_id, model.repo_id), cell("Hub search"), cell(""), cell("—"), cell("—"), cell("—"), cell("—"),
            cell(entry_state or downloads)]  # fmt: skip


def installed_rows(models: list[StoredModel], fit: Callable[[StoredModel], Fit | None]) -> list[list[QTableWidgetItem]]:
    return [installed_row(model, fit(model)) for model in models]


def catalogue_rows(
    models: list[StoredModel], search_results: list[HubModel] | None, budget: int | None, context_length: int,
    kv_bits: int | None = None,
) -> list[list[QTableWidgetItem]]:
    """The catalogue's suggestions for this machine (their KV cache quantized to `kv_bits`), or the Hub search
    results; each with its state here."""
    states = {m.key: ("downloaded" if m.usable else m.status) for m in models}
    if search_results is not None:
        return [search_row(m, states.get(m.repo_id, "")) for m in search_results]
    return [catalogue_row(s, states.get(s.entry.repo_id, ""), s.entry.repo_id, budget is not None)
            for s in suggest(budget or 0, context_length, kv_bits)]  # fmt: skip
