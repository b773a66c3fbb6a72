"""Emulated devices for tests, the demo and installers."""
