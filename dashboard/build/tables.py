"""Two moves every build step makes: rewrite a table from a query, and evaluate a domain rule in bulk."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl


def apply_rule(con, name: str, inputs_sql: str, fn: Callable[..., tuple], outputs: dict[str, pl.DataType]) -> None:
    """Evaluate a domain rule once per distinct input row and store the results as table ``name``.

    Millions of records share a few thousand distinct dates, so the scalar rule (the only
    implementation) runs a few thousand times and DuckDB joins the result back: vectorised in
    effect, identical by construction.
    """
    inputs = con.sql(inputs_sql).pl()
    rows = [tuple(r) + tuple(fn(*r)) for r in inputs.iter_rows()]
    schema = {**{c: inputs.schema[c] for c in inputs.columns}, **outputs}
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    con.register("_rule_frame", frame)
    con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _rule_frame")
    con.unregister("_rule_frame")


def replace(con, table: str, select_sql: str, params: dict | None = None) -> None:
    con.execute(f"CREATE TABLE _new AS {select_sql}", params)
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE _new RENAME TO {table}")
