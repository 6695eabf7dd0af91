"""Ports with real and sandbox implementations (payment gateway, carrier, notifier)."""
