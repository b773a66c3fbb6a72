"""What the three PySide6 apps share: translations, theme and accessibility checks, the connection banner,
the enrollment screen and the qasync start-up; and, free of Qt, printer-safe issuing for the kiosk and the
service desk, matter search and a controller's background tasks. Apps import this; it never imports an app
or the server."""
