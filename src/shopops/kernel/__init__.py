"""Pure building blocks shared by every layer: money, time, errors, events."""
