"""The page registry: every page of the cockpit once, with its URL path, script, catalogue label, icon and
the roles that may open it. The app's navigation, access control, the overview's links, the bench and
the browser tests all read this table. Plain Python, no Streamlit import.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    id: str  # the URL path (the overview is also served at the root)
    script: str  # relative to the dashboard package
    label: str  # catalogue key of its title in the menu
    icon: str
    roles: frozenset[str] | None = None  # the roles that may open it (None: every role)
    # The canonical tables its figures read: rows validation set aside there are missing on the page.
    tables: tuple[str, ...] = ()

    def opens_for(self, role: str) -> bool:
        return self.roles is None or role in self.roles


PAGES: tuple[Page, ...] = (
    Page("uebersicht", "views/overview.py", "nav.overview", ":material/dashboard:",
         tables=("contacts", "tickets", "attachments", "contracts", "invoices", "consent_events", "requests",
                 "request_pauses", "incidents", "holds", "incident_records")),
    Page("loeschfristen", "views/retention.py", "nav.retention", ":material/auto_delete:",
         tables=("contacts", "tickets", "attachments", "contracts", "invoices", "holds", "requests", "incidents",
                 "incident_records", "deletion_tasks")),
    Page("anfragen", "views/requests.py", "nav.requests", ":material/mail:",
         tables=("requests", "request_pauses", "request_events", "contacts", "deletion_tasks")),
    Page("einwilligungen", "views/consent.py", "nav.consent", ":material/how_to_reg:",
         tables=("consent_events", "contacts")),
    Page("datenpannen", "views/incidents.py", "nav.incidents", ":material/report:",
         tables=("incidents", "incident_records")),
    Page("exporte", "views/exports.py", "nav.exports", ":material/download:"),
    # Raw rejected rows with their source values: not for management.
    Page("datenqualitaet", "views/quality.py", "nav.quality", ":material/fact_check:",
         frozenset({"dpo", "auditor"})),
)
DEFAULT = "uebersicht"
BY_ID = {p.id: p for p in PAGES}
IDS = tuple(p.id for p in PAGES)
SCRIPTS = tuple(p.script for p in PAGES)


def url_path(page_id: str) -> str:
    """The path a link uses: the overview is the root."""
    return "" if page_id == DEFAULT else page_id
