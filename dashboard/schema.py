"""The canonical tables of a snapshot: columns, types, required fields, enums and keys.

Every source, whatever its format, is mapped onto these tables; the snapshot builder validates each
row against them and sets invalid rows aside with a reason. Only the columns listed here are copied,
so ticket bodies and message texts never reach a snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a DuckDB type
    required: bool = False
    enum: tuple[str, ...] | None = None
    # What the column holds, marked here and nowhere else: masking for roles without personal data
    # (dashboard.data), which tables the snapshot resolves people in and an Art. 15 package covers.
    personal: bool = False  # identifies or describes a person
    free_text: bool = False  # typed by staff: may name or describe people
    subject: bool = False  # names the data subject the row belongs to (a contact id)


@dataclass(frozen=True)
class Table:
    name: str
    system: str  # the operational store it comes from (shown to users)
    key: str
    columns: tuple[Column, ...]
    optional: bool = False  # may be left out of sources.toml; the snapshot then holds it empty
    # Rules across columns: (SQL condition a valid row meets, reason when it does not).
    checks: tuple[tuple[str, str], ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str = "VARCHAR", required: bool = False, enum: tuple[str, ...] | None = None,
       **marks: bool) -> Column:
    return Column(name, type_, required, enum, **marks)


def _person(name: str, required: bool = False) -> Column:
    """A column that identifies or describes a person."""
    return Column(name, "VARCHAR", required, personal=True)


def _subject(name: str = "contact_id", required: bool = False) -> Column:
    """The data subject a row belongs to."""
    return Column(name, "VARCHAR", required, personal=True, subject=True)


def _text(name: str, required: bool = False) -> Column:
    """Free text typed by staff."""
    return Column(name, "VARCHAR", required, free_text=True)


TS = "TIMESTAMPTZ"
RIGHTS = ("access", "rectification", "erasure", "restriction", "portability", "objection")
REQUEST_STATUSES = (
    "received", "unverified", "in_progress", "paused", "completed", "rejected", "withdrawn", "duplicate",
)
INCIDENT_STATUSES = (
    "detected", "triage", "not_personal_data", "confirmed", "risk_assessed", "notified", "contained", "closed",
)

# What a helpdesk keeps beside a ticket: logs, configurations, screenshots, raw mail copies (.eml),
# documents (PDF, office files) and anything else.
DELETION_STATES = ("in_process", "completed", "failed")

ATTACHMENT_KINDS = ("log_file", "configuration", "screenshot", "mail_copy", "document", "other")

TABLES: tuple[Table, ...] = (
    Table("contacts", "helpdesk", "contact_id", (
        _subject(required=True), _person("first_name"), _person("last_name"),
        _person("email"), _person("phone"), _person("street"), _person("postal_code"), _person("city"),
        _c("created_at", TS, required=True),
    ), checks=(
        # A customer created from an inbound e-mail has no name: a name or an e-mail identifies them.
        ("coalesce(first_name, last_name, email) IS NOT NULL", "contact: needs a name or an e-mail"),
    )),
    Table("tickets", "helpdesk", "ticket_id", (
        _c("ticket_id", required=True), _subject(required=True),
        _c("opened_at", TS, required=True), _c("closed_at", TS),
        _c("status", required=True, enum=("open", "pending", "closed")),
        _c("category", required=True, enum=("hardware", "software", "network", "security", "account", "other")),
        _c("message_count", "INTEGER"),
    )),
    Table("attachments", "helpdesk", "attachment_id", (
        _c("attachment_id", required=True), _c("ticket_id", required=True),
        _c("kind", required=True, enum=ATTACHMENT_KINDS),
        _c("size_bytes", "BIGINT", required=True),
    )),
    Table("contracts", "billing", "contract_id", (
        _c("contract_id", required=True), _subject(required=True),
        _c("start_date", "DATE", required=True), _c("end_date", "DATE"),
        _c("status", required=True, enum=("active", "ended", "cancelled")),
    )),
    Table("invoices", "billing", "invoice_id", (
        _c("invoice_id", required=True), _c("contract_id", required=True), _subject(required=True),
        _c("invoice_date", "DATE", required=True), _c("amount_eur", "DECIMAL(12,2)", required=True),
    )),
    Table("consent_events", "newsletter", "event_id", (
        _c("event_id", required=True), _subject(required=True),
        _c("purpose", required=True, enum=("newsletter", "extended_analytics")),
        _c("action", required=True, enum=("requested", "confirmed", "granted", "withdrawn")),
        _c("occurred_at", TS, required=True), _c("notice_version"),
        _c("channel", required=True, enum=("web", "email", "phone", "paper", "app")),
        # Proof from a state-only store (listmonk): the consent ledger reconstructed the event from the
        # state it first saw (weaker proof), and the opt-in IP when the store recorded one.
        _c("inferred", "BOOLEAN"), _person("optin_ip"),
    )),
    Table("requests", "privacy_register", "request_id", (
        _c("request_id", required=True), _subject(),
        _c("right", required=True, enum=RIGHTS),
        _c("channel", required=True, enum=("email", "web_form", "letter", "phone", "in_person")),
        _c("received_at", TS, required=True), _c("identity_verified_at", TS),
        _c("extension_notified_at", TS), _text("extension_reason"),
        _c("status", required=True, enum=REQUEST_STATUSES),
        _c("closed_at", TS), _text("outcome"), _text("assignee"),
        # A representative (a lawyer, a relative) wrote: the data subject is the person with this e-mail
        # in any contacts source, not the sender (the build resolves it; none found: no subject).
        _person("subject_email"),
    )),
    Table("request_pauses", "privacy_register", "pause_id", (
        _c("pause_id", required=True), _c("request_id", required=True),
        _c("start_date", "DATE", required=True), _c("end_date", "DATE"),
        _c("reason", required=True, enum=("identity_proof", "clarification")),
    )),
    Table("request_events", "privacy_register", "event_id", (
        _c("event_id", required=True), _c("request_id", required=True),
        _c("occurred_at", TS, required=True), _c("event", required=True), _text("detail"),
    )),
    Table("incidents", "privacy_register", "incident_id", (
        _c("incident_id", required=True), _text("title", required=True),
        _c("type", required=True, enum=("confidentiality", "integrity", "availability")),
        _c("detected_at", TS, required=True), _c("aware_at", TS),
        _c("personal_data", "BOOLEAN"),
        _c("risk", enum=("none", "risk", "high", "unassessed")),
        _c("subjects_affected", "INTEGER"),
        _c("authority_notified_at", TS), _text("delay_reason"),
        _c("subjects_informed_at", TS), _c("art34_exemption", enum=("a", "b", "c")),
        _c("art34_exemption_at", TS),
        _c("status", required=True, enum=INCIDENT_STATUSES),
        _c("contained_at", TS), _c("closed_at", TS),
    ), checks=(
        # R2.4b: one definition of "closed" everywhere: a closed breach has its closing time.
        ("status IS DISTINCT FROM 'closed' OR closed_at IS NOT NULL", "closed_at: missing for status closed"),
    )),
    Table("holds", "privacy_register", "hold_id", (
        _c("hold_id", required=True),
        _c("record_type", required=True, enum=("ticket", "contract", "invoice", "subject")),
        _c("record_id", required=True),
        _c("kind", required=True, enum=("legal", "tax", "erasure_statutory", "other")),
        _text("reason", required=True), _text("set_by", required=True),
        _c("set_at", TS, required=True), _c("review_date", "DATE"), _c("released_at", TS),
    )),
    # Which records an incident concerns (R3.3: an open incident holds them). Optional, because not
    # every incident register links incidents to records.
    Table("incident_records", "privacy_register", "link_id", (
        _c("link_id", required=True), _c("incident_id", required=True),
        _c("record_type", required=True, enum=("ticket", "contract", "invoice", "subject")),
        _c("record_id", required=True),
    ), optional=True),
    # Erasure proof (Art. 5(2)): a system's own record that it deleted something, e.g. Zammad's data
    # privacy tasks, kept by a ledger after the system forgets them. ``record_type`` says what was
    # deleted: a person (``record_id`` is their id in the contacts source ``source``), a ticket, or what
    # an erasure request asked for (``record_id`` is the request, e.g. a billing team's confirmation).
    # Optional: the snapshot matches each task to the erasure request it carries out.
    Table("deletion_tasks", "helpdesk", "task_id", (
        _c("task_id", required=True),
        _c("system", required=True, enum=("helpdesk", "billing", "newsletter")),
        _c("source"), _c("record_type", required=True, enum=("subject", "ticket", "request")),
        # Not marked personal: column marks go by name, and holds' record_id is an id as here (the pages
        # never show a task's record_id).
        _c("record_id", required=True),
        _c("state", required=True, enum=DELETION_STATES),
        _c("created_at", TS, required=True), _c("completed_at", TS),
        # Set once the system no longer has the task (the ledger keeps it): the last read that found it there.
        _c("last_seen_at", TS),
    ), checks=(
        ("state <> 'completed' OR completed_at IS NOT NULL", "completed_at: missing for state completed"),
    ), optional=True),
)

BY_NAME = {t.name: t for t in TABLES}

# Which canonical table each policy anchor refers to, and the anchor's date in it (SQL over the
# build's rule macros, queries/build_rules.sql); the systems Löschfristen lists come from it too.
ANCHORS = {"ticket_closed": ("tickets", "ticket_closed_date(status, closed_at)"),
           "contract_end": ("contracts", "end_date"), "invoice_date": ("invoices", "invoice_date")}

# What readers find about a store itself (``source_findings.finding``), by the page that shows it.
SOURCE_FINDINGS = {
    "consent": ("doi_without_optin_ip", "ledger_damaged"),
    "retention": ("deletion_rule", "deletion_rule_differs", "deletion_rule_none", "deletion_rule_unreadable",
                  "deletion_rule_unchecked", "deletion_ledger_damaged"),
    "quality": ("register_attribute_missing", "register_state_unknown", "request_subject_unknown"),
}

# Query columns that carry a marked column under another name (or are built from one).
DERIVED_PERSONAL = frozenset({"record_key", "source_contact_id", "known_as"})
DERIVED_FREE_TEXT = frozenset({"hold_reason", "hold_set_by"})


def personal_columns() -> frozenset[str]:
    """Every column name that identifies or describes a person, in any table or query."""
    return frozenset(c.name for t in TABLES for c in t.columns if c.personal) | DERIVED_PERSONAL


def free_text_columns() -> frozenset[str]:
    return frozenset(c.name for t in TABLES for c in t.columns if c.free_text) | DERIVED_FREE_TEXT


def subject_tables() -> dict[str, str]:
    """Table -> the column naming its data subject (holds and incident records name one in
    ``record_id`` only where ``record_type`` is 'subject')."""
    found = {t.name: c.name for t in TABLES for c in t.columns if c.subject}
    found.update({t.name: "record_id" for t in TABLES if t.name in ("holds", "incident_records")})
    return found
