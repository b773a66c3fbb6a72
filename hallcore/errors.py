"""The base of every error hallcore raises, so shells can catch the domain's errors in one place."""

from __future__ import annotations


class HallError(Exception):
    """Base class of hallq's domain errors."""
