"""Example plug-in strategies (README "Write your own strategy"); not built-ins, never loaded unless named."""
