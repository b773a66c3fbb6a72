"""The hall's files on disk, read for every process that needs them: the server, the apps, the device agent
and the composition root. hallcore parses bytes and reads no file (STYLE.md: pure core); the server and the
apps may not import each other; so the reading that both do lives here, once, over hallcore only."""
