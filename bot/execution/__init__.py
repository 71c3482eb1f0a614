"""From decisions to orders: plan target positions (pure), then precheck and place (I/O)."""
