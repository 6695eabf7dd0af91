"""The `shopops` command line."""
