"""A bare FastAPI + SQLite app doing what the reference server's hot paths do, for comparison:
a read by key, and a durable insert (WAL, synchronous=FULL), both ``async def`` on one worker.

    python benchmarks/baseline_app.py --port 8799 --db /tmp/baseline.db --rows 3000
"""

from __future__ import annotations

import argparse
import json
import sqlite3

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response


def make_app(db_path: str, rows: int) -> FastAPI:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS items (key TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID")
    from conformance.datagen import DataGen

    if conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0:
        gen = DataGen(1)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO items VALUES (?, ?)",
            ((e["equipmentCode"], json.dumps(e, ensure_ascii=False).encode()) for e in gen.equipment_stream(rows)),
        )
        conn.execute("COMMIT")
    app = FastAPI()

    @app.get("/items/{key}")
    async def get_item(key: str) -> Response:
        row = conn.execute("SELECT body FROM items WHERE key = ?", (key,)).fetchone()
        if row is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return Response(row[0], media_type="application/json")

    @app.post("/items")
    async def add_item(request: Request) -> Response:
        body = await request.body()
        key = json.loads(body)["key"]
        conn.execute("INSERT OR REPLACE INTO items VALUES (?, ?)", (key, body))
        return JSONResponse({"ok": True}, status_code=201)

    return app


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument("--db", default="/tmp/tzsb-baseline.db")
    ap.add_argument("--rows", type=int, default=3000)
    a = ap.parse_args()
    uvicorn.run(make_app(a.db, a.rows), host="127.0.0.1", port=a.port, log_level="warning", access_log=False)
