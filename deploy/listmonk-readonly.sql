-- Read-only role for the DSGVO-Cockpit's listmonk connector (docs/CONNECTORS.md).
-- Run as a superuser or the owner of the listmonk database, with psql:
--   psql -v password="'<a long random password>'" -d listmonk -f deploy/listmonk-readonly.sql
-- listmonk's `settings` table also holds SMTP and S3 credentials, so the role reads the one
-- setting it needs through a view (set `settings_table = "dsgvo_cockpit_settings"` in sources.toml).
CREATE ROLE dsgvo_cockpit_listmonk LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE listmonk TO dsgvo_cockpit_listmonk;
GRANT USAGE ON SCHEMA public TO dsgvo_cockpit_listmonk;
GRANT SELECT (id, email, name, created_at, updated_at) ON subscribers TO dsgvo_cockpit_listmonk;
GRANT SELECT (subscriber_id, list_id, status, created_at, updated_at, meta) ON subscriber_lists TO dsgvo_cockpit_listmonk;
GRANT SELECT (id, name, optin) ON lists TO dsgvo_cockpit_listmonk;
CREATE VIEW dsgvo_cockpit_settings AS
    SELECT key, value FROM settings WHERE key = 'privacy.record_optin_ip';
GRANT SELECT ON dsgvo_cockpit_settings TO dsgvo_cockpit_listmonk;
ALTER ROLE dsgvo_cockpit_listmonk SET default_transaction_read_only = on;
