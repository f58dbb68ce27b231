-- The sources a snapshot was built from (descriptions without credentials), as a JSON list.
SELECT sources FROM snapshot_meta;
