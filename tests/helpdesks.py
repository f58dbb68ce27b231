"""The helpdesk facts the Zammad and Znuny connector tests share: a Zammad set up as docs/CONNECTORS.md says
with the privacy register's facts in it, the sources file that reads a helpdesk, the page figures two
snapshots of the same facts must share, and the statements that write Znuny's ticket rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from dashboard import paths
from tests.helpers import write_store
from tests.pg import as_role, database, run

FIXTURES = Path(__file__).parent / "fixtures"
UTC = dt.UTC

# Zammad as it is before the register: users, groups, states, article types; ids as a fresh Zammad has
# them (history types, objects and attributes are created on first use, in any order: not 1, 2, 3).
BASE = """
INSERT INTO roles (id, name) VALUES (1, 'Admin'), (2, 'Agent'), (3, 'Customer');
INSERT INTO users (id, login, firstname, lastname, email, created_at, updated_at) VALUES
 (1, '-', '', '', '', '2024-01-01', '2024-01-01'),
 (2, 'tom', 'Tom', 'Techniker', 'tom@aelvirionek.example', '2024-01-01', '2024-01-01'),
 (3, 'anna', 'Anna', 'Becker', 'anna.becker@example.org', '2025-01-10', '2025-01-10'),
 (4, 'kanzlei', 'Kanzlei', 'Recht', 'kanzlei@example.org', '2025-02-01', '2025-02-01'),
 (5, 'max', 'Max', 'Muster', 'max.muster@example.org', '2025-03-01', '2025-03-01');
INSERT INTO roles_users VALUES (2, 2), (3, 3), (4, 3), (5, 3);
INSERT INTO groups (name) VALUES ('Users'), ('Netzwerk');
INSERT INTO ticket_state_types (id, name) VALUES (1, 'new'), (2, 'open'), (3, 'pending reminder'),
 (4, 'pending action'), (5, 'closed'), (6, 'merged'), (7, 'removed');
INSERT INTO ticket_states (id, state_type_id, name) VALUES (1, 1, 'new'), (2, 2, 'open'),
 (3, 3, 'pending reminder'), (4, 5, 'closed'), (5, 6, 'merged'), (6, 4, 'warten auf Kunde');
INSERT INTO ticket_article_types (id, name, communication) VALUES (1, 'note', false), (2, 'email', true),
 (3, 'phone', true), (4, 'web', true);
INSERT INTO ticket_article_senders (id, name) VALUES (1, 'Agent'), (2, 'Customer'), (3, 'System');
INSERT INTO history_types (id, name) VALUES (7, 'created'), (3, 'updated'), (11, 'added'), (12, 'removed'),
 (15, 'merged_into');
INSERT INTO history_objects (id, name) VALUES (2, 'Ticket::Article'), (5, 'Ticket');
INSERT INTO history_attributes (id, name) VALUES (4, 'group'), (9, 'state'), (21, 'tag'),
 (30, 'incident_art34_exemption');
INSERT INTO tag_objects (id, name) VALUES (1, 'Ticket');
INSERT INTO tag_items (id, name, name_downcase) VALUES (1, 'Loeschsperre', 'loeschsperre'),
 (2, 'fristverlaengerung', 'fristverlaengerung'), (3, 'vip', 'vip');
INSERT INTO link_types (id, name) VALUES (1, 'normal');
INSERT INTO link_objects (id, name) VALUES (1, 'Ticket');
"""

# A scheduler condition as Zammad writes it: Ruby's YAML, tagged (for the E'' string: escaped line breaks).
RULE_12_MONTHS = "\\n".join([
    "--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess",
    "ticket.state_id: !ruby/hash:ActiveSupport::HashWithIndifferentAccess", "  operator: is", "  value:", "  - ''4''",
    "ticket.close_at: !ruby/hash:ActiveSupport::HashWithIndifferentAccess", "  operator: before (relative)",
    "  value: ''12''", "  range: month", ""])

# The register's facts (groups 3 = Datenschutz, 4 = Datenpannen after the setup).
REGISTER = """
INSERT INTO tickets (id, group_id, state_id, number, title, customer_id, last_close_at, created_at, updated_at,
                     dsgvo_right, dsgvo_received, dsgvo_outcome, dsgvo_identity_verified, dsgvo_extension_reason,
                     dsgvo_subject_email) VALUES
 -- an ordinary closed ticket and an open one (held, linked to a breach)
 (1, 2, 4, '10001', 'VPN', 3, '2026-03-20 23:30', '2026-01-05 08:00', '2026-03-20 23:30',
  NULL, NULL, NULL, NULL, NULL, NULL),
 (3, 1, 2, '10003', 'Drucker', 3, NULL, '2026-06-01 08:00', '2026-07-01 09:00', NULL, NULL, NULL, NULL, NULL, NULL),
 -- opened in Users on 2 March, moved into Datenschutz on 21 March: received on 2 March
 (20, 3, 2, '10020', 'Auskunft', 3, NULL, '2026-03-02 09:00', '2026-03-21 10:05', 'art15',
  NULL, NULL, NULL, NULL, NULL),
 -- two back-to-back pending states (reminder, then a pending-action state): one pause; then closed
 (21, 3, 4, '10021', 'Löschung', 5, '2026-04-20 12:00', '2026-04-01 07:00', '2026-04-20 12:00', 'erasure', NULL,
  'completed', '2026-04-02', NULL, NULL),
 -- closed on 10 May, reopened on 12 May: open, last_close_at stale
 (22, 3, 2, '10022', 'Auskunft', 3, '2026-05-10 10:00', '2026-05-04 08:00', '2026-05-12 08:00', 'Access', NULL, NULL,
  NULL, NULL, NULL),
 -- a letter received on 2 January, entered on 5 January; extension tagged on 1 March, after the deadline
 (23, 3, 3, '10023', 'Berichtigung', 5, NULL, '2026-01-05 10:00', '2026-03-01 10:00', 'rectification', '2026-01-02',
  NULL, NULL, 'Umfang der Daten', NULL),
 -- a lawyer writes for Anna
 (24, 3, 1, '10024', 'Widerspruch', 4, NULL, '2026-11-20 09:00', '2026-11-20 09:00', 'art21', NULL, NULL, NULL, NULL,
  ' ANNA.Becker@example.org'),
 -- a duplicate, merged into 22
 (25, 3, 5, '10025', 'Auskunft (2)', 3, NULL, '2026-05-05 07:00', '2026-05-06 09:00', 'access', NULL, NULL, NULL,
  NULL, NULL),
 -- no valid right: not a request
 (26, 3, 1, '10026', '?', 5, NULL, '2026-06-01 08:00', '2026-06-01 08:00', 'art99', NULL, NULL, NULL, NULL, NULL),
 -- a lawyer writes for someone no system knows
 (27, 3, 1, '10027', 'Auskunft', 4, NULL, '2026-11-25 09:00', '2026-11-25 09:00', 'access', NULL, NULL, NULL, NULL,
  'niemand@example.org');
INSERT INTO tickets (id, group_id, state_id, number, title, customer_id, last_close_at, created_at, updated_at,
                     incident_detected_at, incident_aware_at, incident_notified_at, incident_subjects_informed_at,
                     incident_contained_at, incident_type, incident_risk, incident_art34_exemption,
                     incident_personal_data, incident_subjects_affected, incident_delay_reason) VALUES
 -- notified 80 hours after awareness, with a reason; closed
 (30, 4, 4, '10030', 'Laptop gestohlen', 2, '2026-06-01 10:00', '2026-05-04 07:00', '2026-06-01 10:00',
  NULL, '2026-05-04 08:00', '2026-05-07 16:00', NULL, '2026-05-05 12:00', 'confidentiality', 'risk', NULL, true, 40,
  'Forensik abgewartet'),
 -- high risk, exempt under Art. 34(3)(a), set a day after awareness; open
 (31, 4, 2, '10031', 'Backup-Server', 2, NULL, '2026-10-01 07:00', '2026-10-02 10:00',
  '2026-10-01 06:00', '2026-10-01 10:00', '2026-10-02 09:00', NULL, NULL, 'availability', 'high', 'a', true, 1200,
  NULL);
INSERT INTO ticket_articles (id, ticket_id, type_id, sender_id, body, created_at) VALUES
 (1, 20, 2, 2, 'Bitte um Auskunft', '2026-03-02 09:00'),
 (2, 21, 4, 2, 'Formular', '2026-04-01 07:00'), (3, 21, 2, 1, 'Erledigt', '2026-04-20 12:00'),
 (4, 22, 3, 1, 'Anruf', '2026-05-04 08:00'),
 (5, 23, 1, 1, 'Brief eingescannt', '2026-01-05 10:00'),
 (6, 24, 2, 2, 'Vollmacht anbei', '2026-11-20 09:00'),
 (7, 25, 2, 2, 'Nochmal', '2026-05-05 07:00'), (8, 27, 2, 2, 'Vollmacht', '2026-11-25 09:00');
INSERT INTO histories (history_type_id, history_object_id, history_attribute_id, o_id, id_from, id_to, value_from,
                       value_to, created_by_id, created_at, updated_at) VALUES
 (3, 5, 4, 20, 1, 3, 'Users', 'Datenschutz', 2, '2026-03-21 10:00', '2026-03-21 10:00'),
 (3, 5, 9, 20, 1, 2, 'new', 'open', 2, '2026-03-21 10:05', '2026-03-21 10:05'),
 (3, 5, 9, 21, 1, 2, 'new', 'open', 2, '2026-04-01 08:00', '2026-04-01 08:00'),
 (3, 5, 9, 21, 2, 3, 'open', 'pending reminder', 2, '2026-04-03 09:00', '2026-04-03 09:00'),
 (3, 5, 9, 21, 3, 6, 'pending reminder', 'warten auf Kunde', 2, '2026-04-06 09:00', '2026-04-06 09:00'),
 (3, 5, 9, 21, 6, 2, 'warten auf Kunde', 'open', 2, '2026-04-10 09:00', '2026-04-10 09:00'),
 (3, 5, 9, 21, 2, 4, 'open', 'closed', 2, '2026-04-20 12:00', '2026-04-20 12:00'),
 (3, 5, 9, 22, 1, 2, 'new', 'open', 2, '2026-05-04 09:00', '2026-05-04 09:00'),
 (3, 5, 9, 22, 2, 4, 'open', 'closed', 2, '2026-05-10 10:00', '2026-05-10 10:00'),
 (3, 5, 9, 22, 4, 2, 'closed', 'open', 2, '2026-05-12 08:00', '2026-05-12 08:00'),
 (3, 5, 9, 23, 1, 3, 'new', 'pending reminder', 2, '2026-01-06 09:00', '2026-01-06 09:00'),
 (11, 5, 21, 23, NULL, NULL, NULL, 'fristverlaengerung', 2, '2026-03-01 10:00', '2026-03-01 10:00'),
 (15, 5, NULL, 25, NULL, 22, NULL, '10022', 2, '2026-05-05 12:00', '2026-05-05 12:00'),
 (3, 5, 9, 25, 1, 5, 'new', 'merged', 2, '2026-05-05 12:00', '2026-05-05 12:00'),
 (3, 5, 30, 31, NULL, NULL, '', 'a', 2, '2026-10-02 10:00', '2026-10-02 10:00'),
 -- the hold: added on ticket 1 and removed again; added on ticket 3 and still there (tag in another case)
 (11, 5, 21, 1, NULL, NULL, NULL, 'Loeschsperre', 2, '2026-04-01 08:00', '2026-04-01 08:00'),
 (12, 5, 21, 1, NULL, NULL, 'Loeschsperre', NULL, 2, '2026-06-01 08:00', '2026-06-01 08:00'),
 (11, 5, 21, 3, NULL, NULL, NULL, 'loeschsperre', 2, '2026-07-01 09:00', '2026-07-01 09:00'),
 (11, 5, 21, 3, NULL, NULL, NULL, 'vip', 2, '2026-07-01 09:00', '2026-07-01 09:00');
INSERT INTO tags (tag_item_id, tag_object_id, o_id, created_by_id, created_at, updated_at) VALUES
 (2, 1, 23, 2, '2026-03-01 10:00', '2026-03-01 10:00'), (1, 1, 3, 2, '2026-07-01 09:00', '2026-07-01 09:00'),
 (3, 1, 3, 2, '2026-07-01 09:00', '2026-07-01 09:00');
-- ticket 1 and ticket 3 concern breach 30 (linked in both directions)
INSERT INTO links (link_type_id, link_object_source_id, link_object_source_value, link_object_target_id,
                   link_object_target_value) VALUES (1, 1, 30, 1, 1), (1, 1, 3, 1, 30);
-- the helpdesk deletes closed tickets after 12 months (the policy says 6); another job deletes nothing
INSERT INTO jobs (name, timeplan, condition, perform, matching, active, last_run_at, processed) VALUES
 ('Alte Tickets löschen', '---', E'{RULE_12_MONTHS}', E'---\\nticket.action:\\n  value: delete\\n', 0, true,
  '2026-12-01 03:00', 14),
 ('Erinnerungen schließen', '---', E'---\\nticket.state_id:\\n  operator: is\\n  value: ''3''\\n',
  E'---\\nticket.state_id:\\n  value: ''4''\\n', 0, true, NULL, 0);
"""


def setup_zammad(admin: str, name: str, extra: str = "") -> str:
    """A Zammad database set up as docs/CONNECTORS.md says, the register's facts in it; its read-only DSN."""
    role = f"{name}_reader"  # roles are the server's: one per database, so test modules never share one
    run(admin, f"DROP DATABASE IF EXISTS {name}")
    run(admin, f"DROP ROLE IF EXISTS {role}")
    run(admin, f"CREATE DATABASE {name}")
    db = database(admin, name)
    run(db, (FIXTURES / "zammad.sql").read_text(encoding="utf-8") + BASE)
    run(db, (FIXTURES / "zammad_register_setup.sql").read_text(encoding="utf-8"))
    for script in ("zammad-readonly.sql", "zammad-register-readonly.sql"):
        text = (paths.PROJECT_ROOT / "deploy" / script).read_text(encoding="utf-8")
        run(db, text.replace("DATABASE zammad", f"DATABASE {name}").replace("dsgvo_cockpit_zammad", role))
    run(db, (REGISTER.replace("{RULE_12_MONTHS}", RULE_12_MONTHS) + extra).replace("dsgvo_cockpit_zammad", role))
    return as_role(db, role)


REGISTER_TABLES = ("requests", "request_pauses", "request_events", "incidents", "incident_records", "holds")


def helpdesk_sources(folder: Path, billing: dict, source: str) -> Path:
    """Contacts, tickets and the whole register from the helpdesk ``source`` (the lines of its
    ``[sources.helpdesk]``); billing as files."""
    sources = write_store(folder / "files", billing)
    text = sources.read_text(encoding="utf-8")
    for table in ("contacts", "tickets", "attachments", *REGISTER_TABLES):
        text = text.replace(f'[tables.{table}]\nsource = "fixture"\nfile = "{table}.jsonl"\n', "")
    text += f"\n[sources.helpdesk]\n{source}\n"
    text += "".join(f'[tables.{t}]\nsource = "helpdesk"\n' for t in ("contacts", "tickets", "attachments",
                                                                         *REGISTER_TABLES))
    sources.write_text(text, encoding="utf-8")
    return sources


def zammad_sources(folder: Path, billing: dict) -> Path:
    return helpdesk_sources(folder, billing, 'kind = "zammad"\ndsn_env = "ZAMMAD_DSN"')


BILLING = {
    "contracts": [{"contract_id": "C1", "contact_id": "3", "start_date": "2024-01-01", "end_date": None,
                   "status": "active"}],
    "invoices": [{"invoice_id": "I1", "contract_id": "C1", "contact_id": "3", "invoice_date": "2025-03-01",
                  "amount_eur": "99.00"}],
}


# The page figures two snapshots of the same facts must share: at a date and a moment.
FIGURES_AT = dt.date(2026, 12, 1)
FIGURE_CHECKS = [
    ("requests_kpis", {"as_of": FIGURES_AT, "due_soon_days": 7}),
    ("request_queue", {"as_of": FIGURES_AT, "due_soon_days": 7, "show_hidden": True, "rights": [], "statuses": [],
                       "assignees": [], "channels": [], "due_within": None, "overdue_only": False,
                       "received_from": None, "received_to": None}),
    ("incident_kpis", {"as_of": FIGURES_AT, "warning_hours": 24}),
    ("incident_register", {"as_of": dt.datetime(2026, 10, 2, 12, tzinfo=UTC), "warning_hours": 24, "clocks": [],
                           "window_months": None}),
    ("retention_summary", {"as_of": FIGURES_AT, "window_days": 30, "categories": [], "systems": []}),
]


# Znuny's ticket, history and article rows as the tests write them (every NOT NULL column of the layout).
TICKETS_INTO = """INSERT INTO ticket (id, tn, title, queue_id, ticket_lock_id, user_id, responsible_user_id,
    ticket_priority_id, ticket_state_id, customer_id, customer_user_id, timeout, until_time, escalation_time,
    escalation_update_time, escalation_response_time, escalation_solution_time, archive_flag, create_time,
    create_by, change_time, change_by) VALUES """
HISTORY_INTO = """INSERT INTO ticket_history (name, history_type_id, ticket_id, type_id, queue_id, owner_id,
    priority_id, state_id, create_time, create_by, change_time, change_by) VALUES """
ARTICLES_INTO = """INSERT INTO article (id, ticket_id, article_sender_type_id, communication_channel_id,
    is_visible_for_customer, create_time, create_by, change_time, change_by) VALUES """
