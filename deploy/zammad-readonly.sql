-- Read-only role for the DSGVO-Cockpit's Zammad connector (docs/CONNECTORS.md).
-- Run as a superuser or the owner of the Zammad database, with psql:
--   psql -v password="'<a long random password>'" -d zammad -f deploy/zammad-readonly.sql
-- Column-level grants: the role can read exactly the columns the connector uses, never a message
-- body, a password, a token or a file's contents. updated_at lets a refresh copy unchanged tickets and
-- attachments from the last snapshot instead of reading them again (without it they are read every time).
CREATE ROLE dsgvo_cockpit_zammad LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE zammad TO dsgvo_cockpit_zammad;
GRANT USAGE ON SCHEMA public TO dsgvo_cockpit_zammad;
GRANT SELECT (id, firstname, lastname, email, phone, mobile, street, zip, city, created_at) ON users TO dsgvo_cockpit_zammad;
GRANT SELECT (user_id, role_id) ON roles_users TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON roles TO dsgvo_cockpit_zammad;
GRANT SELECT (id, customer_id, state_id, group_id, created_at, updated_at, close_at, last_close_at, article_count)
    ON tickets TO dsgvo_cockpit_zammad;
GRANT SELECT (id, state_type_id, updated_at) ON ticket_states TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON ticket_state_types TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON groups TO dsgvo_cockpit_zammad;
GRANT SELECT (id, store_object_id, o_id, size, filename, updated_at) ON stores TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON store_objects TO dsgvo_cockpit_zammad;
GRANT SELECT (id, ticket_id, updated_at) ON ticket_articles TO dsgvo_cockpit_zammad;
-- Every session of the role is read-only, whatever the client asks for.
ALTER ROLE dsgvo_cockpit_zammad SET default_transaction_read_only = on;
