"""Plug-in strategies the tests load by module path or by file path."""
