"""Service desk mode (导办台): staff issue tickets for people who cannot or will not use the kiosk, with the
kiosk's pre-check and printer-safe issuing (`hallui.issuing`), printed on the desk's printer.

The counter's shape: `flow` (pure), `controller` (Qt-free I/O), `view` (widgets); the counter's bridge carries
the desk's intents and changes too."""
