-- The privacy register from Znuny's dynamic fields (docs/CONNECTORS.md, "Das Datenschutz-Register in
-- Znuny") for the read-only role of deploy/znuny-readonly.sql. Run after that file, as the database owner:
--   psql -d znuny -f deploy/znuny-register-readonly.sql
-- dynamic_field_value holds every ticket field's values, not only the register's: the connector reads the
-- register's fields by id and nothing else. ticket_history.name carries a changed field's value; the
-- connector reads only the history of the hold, extension and Art. 34 fields, states, moves and merges.
GRANT SELECT (id, queue_id, ticket_state_id, customer_user_id, user_id, title, create_time, change_time)
    ON ticket TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name, type_id) ON ticket_state TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name, history_type_id, ticket_id, queue_id, state_id, create_time, create_by)
    ON ticket_history TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name, field_type, object_type) ON dynamic_field TO dsgvo_cockpit_znuny;
GRANT SELECT (field_id, object_id, value_text, value_date, value_int) ON dynamic_field_value TO dsgvo_cockpit_znuny;
GRANT SELECT (id, ticket_id, article_sender_type_id, communication_channel_id, create_time)
    ON article TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON article_sender_type TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON communication_channel TO dsgvo_cockpit_znuny;
GRANT SELECT (id, login) ON users TO dsgvo_cockpit_znuny;
GRANT SELECT (source_object_id, source_key, target_object_id, target_key, state_id)
    ON link_relation TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON link_object TO dsgvo_cockpit_znuny;
GRANT SELECT (id, name) ON link_state TO dsgvo_cockpit_znuny;
