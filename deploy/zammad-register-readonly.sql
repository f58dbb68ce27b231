-- The privacy register's attributes (docs/CONNECTORS.md, "Das Datenschutz-Register in Zammad") for the
-- read-only role of deploy/zammad-readonly.sql. Run once the attributes exist (Zammad's object manager
-- creates them as columns of tickets when "Update database" is clicked), as the database owner:
--   psql -d zammad -f deploy/zammad-register-readonly.sql
-- An attribute named otherwise ([sources.NAME.register] in sources.toml) is granted by its name.
GRANT SELECT (dsgvo_right, dsgvo_received, dsgvo_outcome, dsgvo_identity_verified, dsgvo_extension_reason,
    dsgvo_subject_email, incident_detected_at, incident_aware_at, incident_notified_at,
    incident_subjects_informed_at, incident_contained_at, incident_type, incident_risk, incident_art34_exemption,
    incident_personal_data, incident_subjects_affected, incident_delay_reason) ON tickets TO dsgvo_cockpit_zammad;
