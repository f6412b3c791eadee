"""Screenshots the journeys save for a person to look at: each page at a phone's and a
desktop's width, as tall as the page (within bounds, so a runaway page stays viewable)."""

from __future__ import annotations

from pathlib import Path

WIDTHS = (390, 1440)


def shoot_widths(site, folder: Path, name: str, widths: tuple[int, ...] = WIDTHS) -> None:
    """Save `folder/<name>-<width>.png` for each width, then restore the usual window size."""
    folder.mkdir(parents=True, exist_ok=True)
    for width in widths:
        site.driver.set_window_size(width, 1000)
        height = site.driver.execute_script("return document.documentElement.scrollHeight")
        # The window's height includes the browser's own bars (143 px in headless chromium):
        # sized to the page alone, the screenshot lost the page's bottom, often its last table.
        bars = site.driver.get_window_size()["height"] - site.driver.execute_script(
            "return window.innerHeight"
        )
        site.driver.set_window_size(width, min(max(height, 700), 2600) + bars)
        site.driver.save_screenshot(str(folder / f"{name}-{width}.png"))
    site.driver.set_window_size(1280, 1000)
