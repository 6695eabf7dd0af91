"""shopops: the e-commerce operations platform."""

__version__ = "0.1.0"
