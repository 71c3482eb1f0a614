"""Helpers shared by test packages: the pinned test clock and the `main.py` / simulator subprocess runners."""
