"""Persistence foundations: declarative base, column types, engine, outbox tables."""
