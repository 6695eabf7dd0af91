"""Deterministic demo store generator (`shopops demo seed`)."""
