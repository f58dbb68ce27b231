-- Read-only role for the DSGVO-Cockpit's Zammad connector (docs/CONNECTORS.md).
-- Run as a superuser or the owner of the Zammad database, with psql:
--   psql -v password="'<a long random password>'" -d zammad -f deploy/zammad-readonly.sql
-- Column-level grants: the role can read exactly the columns the connector uses, never a message
-- body, a password, a token or a file's contents. updated_at lets a refresh copy unchanged tickets and
-- attachments from the last snapshot instead of reading them again (without it they are read every time).
CREATE ROLE dsgvo_cockpit_zammad LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE zammad TO dsgvo_cockpit_zammad;
GRANT USAGE ON SCHEMA public TO dsgvo_cockpit_zammad;
GRANT SELECT (id, login, firstname, lastname, email, phone, mobile, street, zip, city, created_at) ON users TO dsgvo_cockpit_zammad;
GRANT SELECT (user_id, role_id) ON roles_users TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON roles TO dsgvo_cockpit_zammad;
GRANT SELECT (id, customer_id, owner_id, state_id, group_id, title, created_at, updated_at, close_at, last_close_at,
    article_count) ON tickets TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, state_type_id, updated_at) ON ticket_states TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON ticket_state_types TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON groups TO dsgvo_cockpit_zammad;
GRANT SELECT (id, store_object_id, o_id, size, filename, updated_at) ON stores TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name, updated_at) ON store_objects TO dsgvo_cockpit_zammad;
GRANT SELECT (id, ticket_id, type_id, sender_id, created_at, updated_at) ON ticket_articles TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON ticket_article_types TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON ticket_article_senders TO dsgvo_cockpit_zammad;
-- The privacy register (docs/CONNECTORS.md, "Das Datenschutz-Register in Zammad"): history, tags, links,
-- the object manager's attribute list, Zammad's own deletion tasks and its scheduler jobs. The register's
-- attributes are columns of tickets created by the object manager: grant them with
-- deploy/zammad-register-readonly.sql once they exist.
GRANT SELECT (id, history_type_id, history_object_id, history_attribute_id, o_id, id_from, id_to, value_from,
    value_to, created_by_id, created_at) ON histories TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON history_types TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON history_objects TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON history_attributes TO dsgvo_cockpit_zammad;
GRANT SELECT (id, tag_item_id, tag_object_id, o_id, created_by_id, created_at) ON tags TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON tag_items TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON tag_objects TO dsgvo_cockpit_zammad;
GRANT SELECT (id, link_type_id, link_object_source_id, link_object_source_value, link_object_target_id,
    link_object_target_value) ON links TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON link_objects TO dsgvo_cockpit_zammad;
GRANT SELECT (object_lookup_id, name, data_type, active) ON object_manager_attributes TO dsgvo_cockpit_zammad;
GRANT SELECT (id, name) ON object_lookups TO dsgvo_cockpit_zammad;
GRANT SELECT (id, state, deletable_type, deletable_id, created_at, updated_at) ON data_privacy_tasks
    TO dsgvo_cockpit_zammad;
GRANT SELECT (name, object, condition, perform, active, last_run_at, processed, updated_at) ON jobs
    TO dsgvo_cockpit_zammad;
-- Every session of the role is read-only, whatever the client asks for.
ALTER ROLE dsgvo_cockpit_zammad SET default_transaction_read_only = on;
