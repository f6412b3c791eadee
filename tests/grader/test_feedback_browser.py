"""The feedback page in a real browser (headless chromium), served the way the site serves it: an
``<iframe sandbox>`` whose response carries the site's ``Content-Security-Policy: sandbox; ...``.

The overlay of issue 9 (a full-window fixed ``<div>`` with a fake score) must stay inside its own
frame: the grader's summary is what the browser draws at its place, and the student's frames do
render (the strict CSPs do not blank them).
"""

from __future__ import annotations

import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import result as R
from grader.scoring import feedback_html

from .builders import nbg

pytestmark = pytest.mark.slow

OVERLAY = (
    '<div id="overlay" style="position:fixed;top:0;left:0;width:100%;height:100%;'
    'background:white;z-index:2147483647"><h4>FAKE Score: 3.0 / 3.0</h4></div>'
)
SITE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _page() -> str:
    answer = new_code_cell("display(HTML(overlay))", metadata=nbg("answer", solution=True))
    answer.outputs = [
        NotebookNode(output_type="display_data", data={"text/html": OVERLAY}, metadata={})
    ]
    test = new_code_cell("assert double(3) == 6", metadata=nbg("t1", grade=True, points=3))
    test.metadata.nbgrader["locked"] = True
    nb = new_notebook(cells=[new_markdown_cell(OVERLAY), answer, test])
    cells = [R.CellResult("t1", 0.0, 3.0, R.FAILED, "AssertionError")]
    return feedback_html(nb, cells, None, 0.0, 3.0, "overlay.ipynb")


class _Handler(SimpleHTTPRequestHandler):
    pages: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 - http.server's name
        body = self.pages.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if self.path == "/feedback":
            self.send_header("Content-Security-Policy", SITE_CSP)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_the_overlay_stays_in_its_frame_in_a_browser(tmp_path):
    from tests.browser.conftest import start_chromium

    _Handler.pages = {
        "/feedback": _page().encode(),
        "/": b'<!DOCTYPE html><html><body style="margin:0"><iframe id="feedback" '
        b'src="/feedback" sandbox style="width:1000px;height:700px;border:0"></iframe>'
        b"</body></html>",
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = start_chromium(tmp_path / "profile")
    try:
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        driver.switch_to.frame(driver.find_element("id", "feedback"))
        hit = driver.execute_script(
            "const s = document.getElementById('kc-grader-summary');"
            "const r = s.getBoundingClientRect();"
            "const e = document.elementFromPoint(r.left + 20, r.top + 20);"
            "return [s.innerText, e.closest('#kc-grader-summary') !== null,"
            " document.getElementById('overlay') === null,"
            " document.querySelectorAll('iframe.kc-student-output').length];"
        )
        summary_text, summary_on_top, no_overlay_here, frames = hit
        assert "Score: 0 / 3" in summary_text
        assert summary_on_top, "something else is drawn over the grader's summary"
        assert no_overlay_here, "the overlay element is part of the feedback page itself"
        assert frames == 2
        driver.switch_to.frame(driver.find_elements("css selector", "iframe.kc-student-output")[0])
        inner = driver.execute_script(
            "const o = document.getElementById('overlay'); return o ? o.innerText : null;"
        )
        assert inner and "FAKE" in inner, "the student's output still renders, in its frame"
    finally:
        driver.quit()
        server.shutdown()
