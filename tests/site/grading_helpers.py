import json

import nbformat

from grader.source import make_release, notebook_bytes
from tests.site.factories import tiny_notebook


def student_notebook(answer: str | None = "    return a + b", prelude: str = "") -> bytes:
    """The tiny course's release with the answer cell filled in (None leaves the stub)."""
    release = nbformat.from_dict(json.loads(notebook_bytes(make_release(tiny_notebook()))))
    if answer is not None:
        release.cells[1].source = f"{prelude}def add(a, b):\n{answer}"
    return notebook_bytes(release)


def database_url() -> str:
    """The test database as a DATABASE_URL, for a worker started in another process."""
    from django.db import connection

    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"
