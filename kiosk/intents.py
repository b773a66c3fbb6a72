"""What a citizen can ask of the kiosk by tapping: the view's signals, in a base class of `KioskView` so the
page builders (`kiosk.pages_choose`, `kiosk.pages_result`) can connect to them without importing the view."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget


class KioskIntents(QWidget):
    start_requested = Signal()
    booking_requested = Signal()
    language_chosen = Signal(str)
    elder_toggled = Signal()
    browse_chosen = Signal(str)
    group_chosen = Signal(str)
    page_moved = Signal(int)
    query_changed = Signal(str)
    matter_chosen = Signal(str)
    answered = Signal(bool)
    material_toggled = Signal(str)
    materials_done = Signal()
    all_present = Signal()  # 材料都带齐了，取号: every paper here, the normal ticket at once
    speak_requested = Signal()  # 读给我听
    submitted = Signal(str)  # priority class id, "" for a normal ticket
    booking_code_submitted = Signal(str)
    card_booking_chosen = Signal(str)  # a booking the card found: check it in
    walk_in_requested = Signal()
    back_requested = Signal()
    notify_requested = Signal()  # "快到您了" from the ticket screen (kiosk/pages_notify.py)
    notify_key = Signal(str)  # a key of the number pad, or "consent"
    notify_submitted = Signal()
    home_requested = Signal()
