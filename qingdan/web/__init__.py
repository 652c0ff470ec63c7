"""qingdan over HTTP: every command as a POST, every query as a GET, and the event feed.

``pip install 'qingdan[web]'``. A host system mounts :func:`create_app` (an ASGI app) or runs
``qingdan serve``. The request and response bodies are the library's own pydantic models; errors are
``{"error": {"type": …, "message": …}}`` with the library's Chinese message. See docs/api.md.
"""

from qingdan.web.app import create_app

__all__ = ["create_app"]
