"""Reading the operational stores into DuckDB staging tables, knowing no snapshot.

``config.py`` parses ``data/sources.toml``; ``readers.py`` is the one dispatch from a kind of store to the
module that reads it (``files.py``: CSV, JSON Lines, Parquet; ``postgres.py``; ``connectors/``: Zammad and
listmonk with their catalogue checks and the consent ledger); ``staging.py`` puts rows under canonical
column names. The snapshot builder (``dashboard.snapshot``) validates what is staged here.
"""
