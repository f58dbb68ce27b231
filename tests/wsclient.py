"""A minimal Streamlit session over its websocket protocol, for load tests without browsers.

A browser costs a CPU core of rendering; twenty of them measure the browsers, not the server. This
client speaks what the browser speaks to the server (BackMsg "rerun this page" in, ForwardMsg
elements out, until "script finished"), so many sessions can run against one real server.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect


@dataclass
class PageRun:
    page: str
    seconds: float
    elements: int
    exceptions: list[str]
    headings: list[str]
    not_found: bool


@dataclass
class LoadResult:
    runs: list[PageRun] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [f"{r.page}: {e}" for r in self.runs for e in r.exceptions] + [
            f"{r.page}: page not found" for r in self.runs if r.not_found]

    def quantile(self, q: float) -> float:
        times = sorted(r.seconds for r in self.runs)
        return statistics.quantiles(times, n=100)[int(q * 100) - 1] if len(times) > 1 else times[0]


# A run ends with one of these; a fragment's run or a run cut short by st.rerun() is followed by more.
FINAL = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR}
RECV_TIMEOUT = 120.0  # seconds without any message from the server: the run is stuck, fail instead of hanging


async def run_page(ws, page: str) -> PageRun:
    """Ask for ``page`` and read until the run that answers it has really finished: a page that calls
    st.rerun() (an export job finished meanwhile) sends FINISHED_EARLY_FOR_RERUN and runs again, and
    fragments send their own finishes; elements of every run of this request are counted."""
    msg = BackMsg()
    msg.rerun_script.query_string = ""
    msg.rerun_script.page_name = page
    started = time.perf_counter()
    await ws.send(msg.SerializeToString())
    elements, exceptions, headings, not_found = 0, [], [], False
    while True:
        fm = ForwardMsg()
        try:
            fm.ParseFromString(await asyncio.wait_for(ws.recv(), RECV_TIMEOUT))
        except TimeoutError:
            raise TimeoutError(f"page {page!r}: no message for {RECV_TIMEOUT:.0f} s after "
                               f"{time.perf_counter() - started:.0f} s ({elements} elements)") from None
        kind = fm.WhichOneof("type")
        if kind == "page_not_found":
            not_found = True
        elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            element = fm.delta.new_element
            elements += 1
            if element.WhichOneof("type") == "exception":
                exceptions.append(f"{element.exception.type}: {element.exception.message}")
            elif element.WhichOneof("type") == "heading":
                headings.append(element.heading.body)
        elif kind == "script_finished" and fm.script_finished in FINAL:
            return PageRun(page, time.perf_counter() - started, elements, exceptions, headings, not_found)


async def _session(url: str, pages: list[str], rounds: int, result: LoadResult) -> None:
    async with connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                       max_size=None, open_timeout=60, ping_timeout=None) as ws:
        for _ in range(rounds):
            for page in pages:
                result.runs.append(await run_page(ws, page))


async def load(url: str, sessions: int, pages: list[str], rounds: int = 1,
               per_session: int | None = None) -> LoadResult:
    """``sessions`` concurrent sessions, each running its pages ``rounds`` times: every page, or with
    ``per_session`` that many, staggered (session i starts at page i), so the sessions together still
    open every page."""
    result = LoadResult()
    count = per_session or len(pages)
    own = [[pages[(i + k) % len(pages)] for k in range(count)] for i in range(sessions)]
    await asyncio.gather(*(_session(url, own[i], rounds, result) for i in range(sessions)))
    return result
