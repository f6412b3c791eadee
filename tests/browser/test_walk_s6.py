"""Pages of the hackathon at a phone's width that looked wrong on the session 6 walk."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_team_page_fits_a_phone(site):
    """The team's invite link (scheme, host, port and code in one word of code type) widened
    the teams page by 26 px at 390 px."""
    from teams.services import create_team
    from tests.site.hackathon import hackathon, registered

    event = hackathon("walk-six-phone-width")
    (member,) = registered(event, "walk-six-member")
    create_team(event, member, "Long Link Team")
    site.log_in("walk-six-member")
    site.driver.set_window_size(390, 900)
    site.open(f"/events/{event.slug}/teams/")
    site.find("#team-link")
    overflow = site.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the teams page scrolls sideways by {overflow} px at 390 px"
    # A phone's table scrolls as a block as wide as the page; the white is on its cells, so it
    # ends with the last column instead of running on past it as a band without lines.
    colours = site.driver.execute_script(
        "const t = document.querySelector('#teams');"
        "return [getComputedStyle(t).backgroundColor,"
        " getComputedStyle(t.querySelector('td')).backgroundColor,"
        " getComputedStyle(document.querySelector('#my-team > h2')).marginTop];"
    )
    assert colours[:2] == ["rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"], colours
    assert float(colours[2].removesuffix("px")) < 8, "the team card opens with a gap"
