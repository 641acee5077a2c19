"""Calibrating response curves from campaign history and platform exports (``tradeoff fit``)."""
