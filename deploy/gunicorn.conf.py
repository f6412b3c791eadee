"""The site's web server, as scripts/run.sh and the tests run it: `gunicorn -c deploy/gunicorn.conf.py`.

Threaded workers (`gthread`), because some requests are long: a page follows a spawn's progress
through an event stream for as long as the spawn takes. With synchronous workers two such streams
held both workers while the hub waited on its own call to the site's /o/userinfo/ (docs/sessions.md).
Each worker has more threads than the event streams it will relay (KC_EVENT_STREAMS, 16), so
OAuth, userinfo and every short request always find a free thread; no request waits on the hub
to start or stop a server (compute.runner does that in the background).
"""

import os
from pathlib import Path

_repo = Path(__file__).resolve().parents[1]

chdir = str(_repo / "platform")
wsgi_app = "kernelcamp.wsgi:application"
bind = [f"{os.environ.get('KC_HOST', '127.0.0.1')}:{os.environ.get('KC_PORT', '8000')}"]
worker_class = "gthread"
workers = int(os.environ.get("KC_WEB_WORKERS", "2"))
threads = int(os.environ.get("KC_WEB_THREADS", "32"))
# Event streams beyond this many per worker are told to come back later (compute.views).
raw_env = [f"KC_EVENT_STREAMS={os.environ.get('KC_EVENT_STREAMS', str(max(1, threads // 2)))}"]
timeout = 120
graceful_timeout = 30
keepalive = 5
accesslog = "-"
