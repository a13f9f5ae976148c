"""Small modal questions shared by the panes."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

DESTRUCTIVE = ("Delete", "Remove")
"""Verbs whose button is styled as destructive."""


def ask_to_confirm(parent: QWidget, question: str, detail: str, verb: str) -> bool:
    """A question with `verb` and Cancel buttons; whether `verb` was clicked."""
    box = QMessageBox(QMessageBox.Icon.Question, question, question, parent=parent)
    box.setInformativeText(detail)
    role = QMessageBox.ButtonRole.DestructiveRole if verb in DESTRUCTIVE else QMessageBox.ButtonRole.AcceptRole
    yes = box.addButton(verb, role)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is yes
