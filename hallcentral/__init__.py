"""The province/city centre: halls ship their events here; a live overview of every hall (docs/central.md)."""
