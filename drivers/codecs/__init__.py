"""Pure device codecs: bytes in, values out, no I/O. Tested with byte literals from PROTOCOLS.md."""
