-- Read-only role for the DSGVO-Cockpit's Znuny connector (docs/CONNECTORS.md).
-- Run as a superuser or the owner of the Znuny database, with psql:
--   psql -v password="'<a long random password>'" -d znuny -f deploy/znuny-readonly.sql
-- Column-level grants: the role can read exactly the columns the connector uses, never a message
-- body (article_data_mime, article_data_mime_plain), an attachment's content, a password or a session.
-- change_time lets a refresh copy unchanged tickets and attachments from the last snapshot instead of
-- reading them again (without it they are read every time).
CREATE ROLE dsgvo_cockpit_znuny LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE znuny TO dsgvo_cockpit_znuny;
GRANT USAGE ON SCHEMA public TO dsgvo_cockpit_znuny;
GRANT SELECT (login, first_name, last_name, email, phone, mobile, street, zip, city, create_time)
    ON customer_user TO dsgvo_cockpit_znuny;
GRANT SELECT (id, customer_user_id, ticket_state_id, queue_id, create_time, change_time) ON ticket TO dsgvo_cockpit_znuny;
GRANT SELECT (id, type_id, change_time) ON ticket_state TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON ticket_state_type TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name, change_time) ON queue TO dsgvo_cockpit_znuny;
GRANT SELECT (ticket_id, history_type_id, state_id, create_time, change_time) ON ticket_history TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON ticket_history_type TO dsgvo_cockpit_znuny;
GRANT SELECT (id, ticket_id, change_time) ON article TO dsgvo_cockpit_znuny;
GRANT SELECT (id, article_id, filename, content_size, content_type, disposition, change_time)
    ON article_data_mime_attachment TO dsgvo_cockpit_znuny;
