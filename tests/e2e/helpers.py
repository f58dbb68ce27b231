"""Browser actions the journeys share: picking an option, selecting a grid's first row."""

from __future__ import annotations

import re

from tests.e2e.conftest import wait_idle


def select_first_row(page, table: int = 0) -> None:
    """Tick the selection box of a dataframe's first row (the grid is a canvas: click by position)."""
    frame = page.locator("[data-testid=stDataFrame]").nth(table)
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_idle(page)


SELECTS = "[data-testid=stSelectbox], [data-testid=stMultiSelect]"
# A select widget shows the option: a multiselect as a chip (a line of its text), a selectbox as its
# input's value. Every widget is looked at afresh: a label may change with the pick (Sprache -> Language).
_SHOWS_OPTION = """([selects, option]) => [...document.querySelectorAll(selects)].some(w =>
    w.innerText.split('\\n').some(line => line.trim() === option)
    || [...w.querySelectorAll('input')].some(i => i.value === option))"""


def choose(page, label: str, option: str) -> None:
    """Pick an option of a selectbox or multiselect found by its label, and see it chosen: a select
    widget shows it (a chip, or the selectbox's value). First from the keyboard (type the option, Enter):
    on a busy machine the open list re-rendered under a click for 30 s ("element was detached"); then, if
    that did not register, with a click on the option."""
    widget = page.locator(SELECTS).filter(has_text=label).first
    for attempt in range(2):
        box = widget.locator("input").first
        box.click()
        choice = page.get_by_role("option").filter(has_text=re.compile(f"^{re.escape(option)}$")).first
        if attempt == 0:
            box.press_sequentially(option)
            try:
                choice.wait_for(timeout=5_000)
                box.press("Enter")
            except Exception:  # noqa: BLE001 - the list did not show it: try the mouse next
                pass
        else:
            try:
                choice.wait_for(timeout=3_000)
            except Exception:  # noqa: BLE001 - the list did not open on click: open it from the keyboard
                box.press("ArrowDown")
            choice.click()
        page.keyboard.press("Escape")
        wait_idle(page)
        if page.evaluate(_SHOWS_OPTION, [SELECTS, option]):
            return
    raise AssertionError(f"{label}: {option!r} could not be chosen")
