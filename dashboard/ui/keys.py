"""Two scripts without HTML that the pages run in the browser: Enter applies a typed date, and a link to
a request or incident scrolls to its detail.

Streamlit's date field (react-aria segments) commits a typed date only when the field "closes"
(Escape) or loses focus to something outside it; Enter does nothing, so a DPO who types 31.12.2027
and presses Enter still sees today's figures. One keydown listener per browser tab turns Enter in a
date field into the close that commits it. It is a Streamlit component without HTML (nothing is
drawn) whose script runs in the app page, registered once per server.
"""

from __future__ import annotations

import streamlit as st

_SCRIPT = """
export default function () {
  if (window.__dashboardEnterAppliesDates) return;
  window.__dashboardEnterAppliesDates = true;
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !event.isTrusted || !(event.target instanceof Element)) return;
    if (!event.target.closest("[data-testid=stDateInputField]")) return;
    event.preventDefault();
    event.stopPropagation();
    event.target.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", code: "Escape", bubbles: true,
                                                              cancelable: true}));
  }, true);
}
"""

_listener = st.components.v2.component("dashboard_enter_applies_dates", js=_SCRIPT, isolate_styles=False)


def enter_applies_dates() -> None:
    """Install the listener on this page (again after each rerun: the script returns at once when it
    is already there)."""
    _listener(key="enter_applies_dates")


_SCROLL = """
export default function ({ data }) {
  if (!data || !data.target) return;
  const done = window.__dashboardScrolledTo || (window.__dashboardScrolledTo = new Set());
  if (done.has(data.token)) return;  // once per link: later reruns leave the reader where they are
  const find = (tries) => {
    const detail = document.querySelector(".st-key-" + data.target);
    if (detail) {
      done.add(data.token);
      detail.scrollIntoView({block: "start"});
    } else if (tries > 0) {
      setTimeout(() => find(tries - 1), 100);
    }
  };
  find(50);
}
"""

_scroller = st.components.v2.component("dashboard_bring_into_view", js=_SCROLL, isolate_styles=False)


def bring_into_view(target: str, token: str) -> None:
    """Scroll the container with key ``target`` into view, once per ``token`` (e.g. the page and the id a
    link names): a deep link opens with its detail on screen, not under the figures and charts."""
    _scroller(data={"target": target, "token": token}, key=f"bring_into_view_{target}")
