"""ASGI entry point for uvicorn: ``shopops.api.asgi:app``."""

from shopops.api.app import create_app
from shopops.kernel.logs import configure_logging
from shopops.kernel.runtime import freeze_startup_heap

configure_logging()
app = create_app()
freeze_startup_heap()  # what is built by now lives as long as the worker
