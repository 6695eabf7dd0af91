"""ASGI entry point for uvicorn: ``shopops.api.asgi:app``."""

from shopops.api.app import create_app
from shopops.kernel.logs import configure_logging

configure_logging()
app = create_app()
