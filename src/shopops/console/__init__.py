"""Staff web console (server-rendered, htmx)."""
