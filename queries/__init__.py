"""The named SQL, installed as the package ``dashboard.sql`` (pyproject.toml maps this folder), so a
checkout's editable install and a wheel read the queries the same way (``dashboard.paths``)."""
