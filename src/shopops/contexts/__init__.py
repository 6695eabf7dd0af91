"""Bounded contexts, one package each; others import only a package's __init__."""
