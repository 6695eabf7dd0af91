"""ASGI entry point for uvicorn: ``shopops.console.asgi:app`` (the API and the console)."""

from shopops.console.site import create_site
from shopops.kernel.logs import configure_logging

configure_logging()
app = create_site()
