"""Bulk writes without Django's per-object machinery: what the ingest needs to write thousands of
rows in one transaction within its time budget (bench/ingest.py measures it).

Plain dicts or unsaved instances in, prepared SQL out: COPY or multi-row INSERTs, one prepared
UPDATE run with executemany, plain DELETEs. No signals, no collector, no ids returned.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models

BATCH = 500  # rows per IN (...) list


def _preparers(meta_fields: list[Any]) -> list[Any]:
    """Per field, how to turn a Python value into a query parameter. Only JSON and date-time
    fields need Django's preparation (the rest pass as they are, which is what most of the
    time of bulk_create goes into); the date-times of one ingest are all the same ``now``."""
    out: list[Any] = []
    for f in meta_fields:
        if isinstance(f, models.JSONField | models.DateTimeField | models.DateField):
            cache: dict[Any, Any] = {}

            def prepare(value: Any, f: Any = f, cache: dict[Any, Any] = cache) -> Any:
                if isinstance(value, datetime):
                    if value not in cache:
                        cache[value] = f.get_db_prep_save(value, connection)
                    return cache[value]
                return f.get_db_prep_save(value, connection)

            out.append(prepare)
        else:
            out.append(None)
    return out


def _prepare_rows(meta_fields: list[Any], rows: list[list[Any]]) -> list[list[Any]]:
    preparers = _preparers(meta_fields)
    active = [(i, p) for i, p in enumerate(preparers) if p is not None]
    for row in rows:
        for i, prepare in active:
            row[i] = prepare(row[i])
    return rows


def _concrete(model: type[models.Model], names: Iterable[str]) -> list[tuple[models.Field[Any, Any], str]]:
    """The fields ``names`` of ``model``, each with its quoted column (a relation's reverse side
    has no column: asking for one is a programming error)."""
    out = []
    for name in names:
        f = model._meta.get_field(name)
        if not isinstance(f, models.Field) or f.column is None:
            raise TypeError(f"{model.__name__}.{name} has no column")
        out.append((f, connection.ops.quote_name(f.column)))
    return out


def fast_update(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """``bulk_update`` without its CASE WHEN expressions: one prepared UPDATE ... WHERE id = %s
    run with executemany. Django's bulk_update spends seconds resolving expressions for a few
    thousand rows; this keeps a 4,000-interface snapshot well under the 2 s target."""
    if not objs:
        return
    concrete = _concrete(model, fields)
    meta_fields = [f for f, _column in concrete]
    pk_column = _concrete(model, [model._meta.pk.name])[0][1]
    sql = "UPDATE {} SET {} WHERE {} = %s".format(
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(f"{column} = %s" for _f, column in concrete),
        pk_column,
    )
    rows = _prepare_rows(meta_fields, [[getattr(obj, f.attname) for f in meta_fields] for obj in objs])
    for row, obj in zip(rows, objs, strict=True):
        row.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def fast_insert(model: type[models.Model], rows: list[dict[str, Any]]) -> None:
    """``bulk_create`` from plain dicts (field attname -> value): multi-row INSERTs as large as
    the backend's parameter limit allows, no model instances, SQL compiled once per size.
    Rows get no ids back."""
    if not rows:
        return
    names = list(rows[0])
    concrete = _concrete(model, names)
    meta_fields = [f for f, _column in concrete]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(column for _f, column in concrete)
    head = f"INSERT INTO {table} ({columns}) VALUES "
    one = "(" + ", ".join(["%s"] * len(meta_fields)) + ")"
    limit = connection.features.max_query_params or 65535
    per_statement = max(1, min(1000, limit // len(meta_fields)))
    prepared = _prepare_rows(meta_fields, [[row[n] for n in names] for row in rows])
    if connection.vendor == "postgresql" and len(prepared) > 50:
        # COPY: PostgreSQL's bulk path, several times faster than multi-row INSERTs here
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in prepared:
                copy.write_row(row)
        return
    with connection.cursor() as cursor:
        for start in range(0, len(prepared), per_statement):
            batch = prepared[start : start + per_statement]
            cursor.execute(head + ", ".join([one] * len(batch)), [value for row in batch for value in row])


def fast_delete(model: type[models.Model], column: str, values: list[Any], node: models.Model | None = None) -> None:
    """Plain DELETEs by ``column`` (of ``node``'s rows): what the plan removes has no
    dependants left, so Django's collector (a SELECT and UPDATE per relation and chunk) only
    costs time; a row still referenced fails the deferred foreign key at commit."""
    table = connection.ops.quote_name(model._meta.db_table)
    where = "node_id = %s AND " if node is not None else ""
    with connection.cursor() as cursor:
        for chunk in chunks(values):
            marks = ", ".join(["%s"] * len(chunk))
            params = [node.pk, *chunk] if node is not None else chunk
            cursor.execute(f"DELETE FROM {table} WHERE {where}{connection.ops.quote_name(column)} IN ({marks})", params)


def chunks(items: list[Any], size: int = BATCH) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
