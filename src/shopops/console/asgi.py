"""ASGI entry point for uvicorn: ``shopops.console.asgi:app`` (the API and the console)."""

from shopops.console.site import create_site
from shopops.kernel.logs import configure_logging
from shopops.kernel.runtime import freeze_startup_heap

configure_logging()
app = create_site()
freeze_startup_heap()  # what is built by now lives as long as the worker
