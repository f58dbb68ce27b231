-- When the live snapshot was built, from which sources (name and kind), under which policy.
SELECT built_at, policy_version, app_version, build_seconds, fed_by FROM snapshot_meta;
