"""Outbox relay process and scheduled jobs (`shopops worker`)."""
