"""The site's WSGI application with one switch for the bench: `?naive=1` on a board URL makes
that request compute the board with `naive.py` instead of reading the materialized rows.

Everything else (middleware, session, permission checks, the view, the template) is the site's
own code path, so the naive phases differ from the site's phases only in how the board is made.
Served by gunicorn with the run command's config (`-c deploy/gunicorn.conf.py naive_site:application`).
"""

from __future__ import annotations

import threading

from kernelcamp.wsgi import application as site  # sets Django up, before any model import

# isort: split
import naive
from contests import boards

_request = threading.local()
_materialized_html, _materialized_json = boards.rendered, boards.as_json


def _rendered(challenge, board, live):
    if getattr(_request, "naive", False):
        return naive.naive_html(challenge, board, live)
    return _materialized_html(challenge, board, live)


def _as_json(challenge, board, live):
    if getattr(_request, "naive", False):
        return naive.naive_json(challenge, board, live)
    return _materialized_json(challenge, board, live)


boards.rendered, boards.as_json = _rendered, _as_json  # contests.views calls boards.<name>


def application(environ, start_response):
    _request.naive = "naive=1" in environ.get("QUERY_STRING", "")
    try:
        return site(environ, start_response)
    finally:
        _request.naive = False
