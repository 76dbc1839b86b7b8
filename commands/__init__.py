"""The `shema` command groups, one module each; cli.py assembles them."""
