"""The subcommands of main.py, one module each."""
