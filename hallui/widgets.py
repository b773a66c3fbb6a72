"""Small factories so every widget gets an objectName (tests find widgets by name) and a style role."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QWidget


def label(
    text: str, name: str, role: str | None = None, *, wrap: bool = False, parent: QWidget | None = None
) -> QLabel:
    w = QLabel(text, parent)
    w.setObjectName(name)
    if role:
        w.setProperty("role", role)
    w.setWordWrap(wrap)
    return w


def button(text: str, name: str, role: str | None = None, *, parent: QWidget | None = None) -> QPushButton:
    w = QPushButton(text, parent)
    w.setObjectName(name)
    if role:
        w.setProperty("role", role)
    return w
