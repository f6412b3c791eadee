"""Plots keep their text as text, so Korean titles render in the reader's browser."""

import re

from grading.plots import score_distribution_svg


def test_korean_plot_title_is_text_in_the_svg():
    svg = score_distribution_svg({"add": [3.0, 7.5, 10.0]}, {"add": 10.0}, "점수 분포")
    # As glyph outlines the server's fonts would draw boxes; as a <text> element the browser draws it.
    assert re.search(r"<text[^>]*>[^<]*점수 분포", svg)
