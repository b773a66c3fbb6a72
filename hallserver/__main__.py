"""`python -m hallserver --config FILE …`: the same as `hallq server`."""

from __future__ import annotations

import sys

from hallserver.app import serve_main

if __name__ == "__main__":
    sys.exit(serve_main(sys.argv[1:]))
