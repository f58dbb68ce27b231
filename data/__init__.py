"""The checked-in default configuration (policy, sources, Art. 15 text, examples), installed as the
package ``dashboard.defaults`` (pyproject.toml maps this folder). In a checkout, generated data (demo
stores, snapshots, exports, state; git-ignored) also lives here unless DASHBOARD_DATA_DIR says otherwise."""
