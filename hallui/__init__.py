"""What the three PySide6 apps share: translations, theme and accessibility checks, the connection banner,
the enrollment screen and the qasync start-up. Apps import this; it never imports an app or the server."""
