"""The feedback page as one self-contained HTML file, for reading offline.

Styles, KaTeX and its fonts are inlined (fonts as `data:` URIs, woff2 only); the file's own
Content-Security-Policy allows exactly its two inline scripts (by hash) and nothing from the
network, so the copy behaves like the page on the site.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from pathlib import Path

from django.contrib.staticfiles import finders

_FONT_SRC = re.compile(r"src:url\((fonts/[^)]+\.woff2)\)[^;}]*")

#: What the inline math script does; the same file is served to the site's page.
MATH_SCRIPT = "kernelcamp/feedback-math.js"


def _static_text(path: str) -> str:
    found = finders.find(path)
    return Path(found).read_text(encoding="utf-8") if found else ""


@lru_cache(maxsize=1)
def katex_css_inline() -> str:
    """katex.min.css with each font face reduced to its woff2 file as a data: URI."""
    css_path = finders.find("vendor/katex/katex.min.css")
    if not css_path:
        return ""
    folder = Path(css_path).parent

    def inline(match: re.Match) -> str:
        font = folder / match.group(1)
        if not font.is_file():
            return match.group(0)
        data = base64.b64encode(font.read_bytes()).decode("ascii")
        return f'src:url(data:font/woff2;base64,{data}) format("woff2")'

    return _FONT_SRC.sub(inline, Path(css_path).read_text(encoding="utf-8"))


def script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def assets(with_math: bool) -> dict:
    """CSS and scripts to inline, and the CSP that admits exactly those scripts."""
    css = _static_text("kernelcamp/site.css") + "\n" + _static_text("kernelcamp/feedback.css")
    scripts = []
    if with_math:
        css += "\n" + katex_css_inline()
        scripts = [_static_text("vendor/katex/katex.min.js"), _static_text(MATH_SCRIPT)]
        scripts = [s for s in scripts if s]
    # </script> or </style> cannot occur in these files; refuse rather than break the page.
    scripts = [s for s in scripts if "</script" not in s.lower()]
    css = css.replace("</style", "")
    script_src = " ".join(script_hash(s) for s in scripts) or "'none'"
    csp = (
        f"default-src 'none'; script-src {script_src}; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )
    return {"css": css, "scripts": scripts, "csp": csp}
