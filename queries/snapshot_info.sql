SELECT built_at, policy_version, app_version, build_seconds FROM snapshot_meta;
