"""Storage of the licensing role (特种设备使用登记行政许可应用系统): cases, their history,
documents, notices, dossiers and the counters that number them.

Every table is prefixed ``lic_`` (``--role all`` shares one database between the roles).
Functions that write expect to run inside ``db.write()`` (``BEGIN IMMEDIATE``): the caller
owns the transaction, so a step, its documents, its notices, its dossier number and its
outgoing calls commit together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from conformance.reference.db import Database, dumps, loads

DDL = """
CREATE TABLE IF NOT EXISTS lic_cases (
  case_no TEXT PRIMARY KEY, item_code TEXT NOT NULL, applicant_id TEXT NOT NULL, applicant_type TEXT NOT NULL,
  state TEXT NOT NULL, suspended_state TEXT, procedure BLOB, application BLOB NOT NULL, message_id TEXT NOT NULL,
  equipment_code TEXT, registration_no TEXT, elicense_id TEXT, result TEXT, decided_at TEXT, result_notice TEXT,
  concluded INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, report_no TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lic_cases_applicant ON lic_cases (applicant_id);
CREATE INDEX IF NOT EXISTS lic_cases_report ON lic_cases (report_no);
CREATE TABLE IF NOT EXISTS lic_history (
  case_no TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, outcome TEXT NOT NULL, operator BLOB NOT NULL,
  opinion TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (case_no, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lic_documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT, case_no TEXT NOT NULL, stage TEXT NOT NULL, title TEXT NOT NULL,
  description TEXT, origin TEXT, format TEXT NOT NULL, body BLOB NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
  pages INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lic_documents_case ON lic_documents (case_no, id);
CREATE TABLE IF NOT EXISTS lic_notices (
  notice_id TEXT PRIMARY KEY, case_no TEXT NOT NULL, type TEXT NOT NULL, body BLOB NOT NULL, document_id INTEGER,
  issued_at TEXT NOT NULL, ord INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lic_notices_case ON lic_notices (case_no, ord);
CREATE TABLE IF NOT EXISTS lic_dossiers (
  case_no TEXT PRIMARY KEY, dossier_code TEXT NOT NULL, uscc TEXT NOT NULL, year INTEGER NOT NULL, seq INTEGER NOT NULL,
  status TEXT NOT NULL, created_at TEXT NOT NULL, catalogued_at TEXT, archived_at TEXT, updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS lic_dossiers_code ON lic_dossiers (dossier_code);
CREATE INDEX IF NOT EXISTS lic_dossiers_unit ON lic_dossiers (uscc, archived_at);
-- 序列号 of the dossier code (§9.2): one row per applicant and creation year, the last number given.
CREATE TABLE IF NOT EXISTS lic_dossier_seq (
  uscc TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL, PRIMARY KEY (uscc, year)) WITHOUT ROWID;
-- other counters: 使用登记证编号 serials (per prefix and year), e-licence numbers, notice numbers
CREATE TABLE IF NOT EXISTS lic_counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL) WITHOUT ROWID;
-- corrected inspection reports (表6 序号2 re-push), every version kept
CREATE TABLE IF NOT EXISTS lic_reports (
  report_no TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL, digest TEXT NOT NULL, correction_of TEXT,
  received_at TEXT NOT NULL, PRIMARY KEY (report_no, version)) WITHOUT ROWID;
"""


@dataclass
class Case:
    case_no: str
    item_code: str
    applicant_id: str
    applicant_type: str
    state: str
    application: dict[str, Any]
    message_id: str
    created_at: str
    updated_at: str
    suspended_state: str | None = None
    procedure: dict[str, Any] | None = None
    equipment_code: str | None = None
    registration_no: str | None = None
    elicense_id: str | None = None
    result: str | None = None
    decided_at: str | None = None
    result_notice: str | None = None
    concluded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def applicant(self) -> dict[str, Any]:
        return self.application["applicant"]

    @property
    def authority(self) -> dict[str, Any]:
        return self.application["authority"]

    @property
    def equipment(self) -> dict[str, Any]:
        return self.application["equipment"]

    @property
    def legal_person(self) -> bool:
        """A legal person applies with its USCC (idType 001); a natural person with a citizen ID."""
        return self.applicant_type == "legal-person"


_CASE_COLUMNS = (
    "case_no, item_code, applicant_id, applicant_type, state, suspended_state, procedure, application, "
    "message_id, equipment_code, registration_no, elicense_id, result, decided_at, result_notice, concluded, "
    "created_at, updated_at"
)
_COLUMNS = tuple(_CASE_COLUMNS.split(", "))
#: the columns a case is written to (the report its application names, for the corrected-report re-push)
_WRITTEN = (*_COLUMNS, "report_no")
#: the columns a case keeps from its insertion on
_FIXED = ("case_no", "applicant_id", "applicant_type", "created_at")


def _case(row: Any) -> Case:
    stored = dict(zip(_COLUMNS, row, strict=True))
    procedure, application = loads(stored["procedure"]) if stored["procedure"] else None, loads(stored["application"])
    return Case(**stored | {"procedure": procedure, "application": application, "concluded": bool(stored["concluded"])})


def _values(case: Case) -> dict[str, Any]:
    """The values of :data:`_WRITTEN` for ``case``."""
    return {
        **vars(case),
        "procedure": dumps(case.procedure) if case.procedure else None,
        "application": dumps(case.application),
        "concluded": int(case.concluded),
        "report_no": case.equipment.get("reportNo"),
    }


def load_case(db: Database, case_no: str) -> Case | None:
    row = db.one(f"SELECT {_CASE_COLUMNS} FROM lic_cases WHERE case_no = ?", case_no)
    return _case(row) if row else None


def insert_case(db: Database, case: Case) -> None:
    values = _values(case)
    db.conn.execute(
        f"INSERT INTO lic_cases ({', '.join(_WRITTEN)}) VALUES ({', '.join('?' * len(_WRITTEN))})",
        tuple(values[c] for c in _WRITTEN),
    )


def save_case(db: Database, case: Case) -> None:
    values = _values(case)
    changing = [c for c in _WRITTEN if c not in _FIXED]
    db.conn.execute(
        f"UPDATE lic_cases SET {', '.join(f'{c} = ?' for c in changing)} WHERE case_no = ?",
        (*(values[c] for c in changing), case.case_no),
    )


# ---------------------------------------------------------------------------------- history
def add_history(
    db: Database, case_no: str, step: str, outcome: str, operator: dict[str, Any], opinion: str, at: str
) -> int:
    row = db.one("SELECT COALESCE(MAX(seq), 0) FROM lic_history WHERE case_no = ?", case_no)
    seq = int(row[0]) + 1
    db.conn.execute(
        "INSERT INTO lic_history (case_no, seq, step, outcome, operator, opinion, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (case_no, seq, step, outcome, dumps(operator), opinion, at),
    )
    return seq


def history(db: Database, case_no: str) -> list[dict[str, Any]]:
    rows = db.records(
        "SELECT seq, step, outcome, operator, opinion, at FROM lic_history WHERE case_no = ? ORDER BY seq", case_no
    )
    return [{**r, "operator": loads(r["operator"])} for r in rows]


# ---------------------------------------------------------------------------------- documents
@dataclass
class Document:
    id: int
    case_no: str
    stage: str
    title: str
    description: str | None
    origin: str | None
    format: str
    sha256: str
    size: int
    pages: int
    created_at: str


def add_document(
    db: Database,
    case_no: str,
    stage: str,
    title: str,
    body: bytes,
    fmt: str,
    pages: int,
    at: str,
    *,
    description: str | None = None,
    origin: str | None = "网页",
) -> int:
    cur = db.conn.execute(
        "INSERT INTO lic_documents (case_no, stage, title, description, origin, format, body, sha256, size, pages, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (case_no, stage, title, description, origin, fmt, body, hashlib.sha256(body).hexdigest(), len(body), pages, at),
    )
    return int(cur.lastrowid or 0)


def documents(db: Database, case_no: str) -> list[Document]:
    rows = db.all(
        "SELECT id, case_no, stage, title, description, origin, format, sha256, size, pages, created_at "
        "FROM lic_documents WHERE case_no = ? ORDER BY id",
        case_no,
    )
    return [Document(*r) for r in rows]


def document_body(db: Database, doc_id: int) -> bytes | None:
    row = db.one("SELECT body FROM lic_documents WHERE id = ?", doc_id)
    return bytes(row[0]) if row else None


# ---------------------------------------------------------------------------------- notices
def add_notice(db: Database, notice: dict[str, Any], document_id: int | None) -> None:
    row = db.one("SELECT COALESCE(MAX(ord), 0) FROM lic_notices WHERE case_no = ?", notice["caseNo"])
    db.conn.execute(
        "INSERT INTO lic_notices (notice_id, case_no, type, body, document_id, issued_at, ord) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            notice["noticeId"],
            notice["caseNo"],
            notice["type"],
            dumps(notice),
            document_id,
            notice["issuedAt"],
            int(row[0]) + 1,
        ),
    )


def notices(db: Database, case_no: str) -> list[tuple[dict[str, Any], int | None]]:
    rows = db.all("SELECT body, document_id FROM lic_notices WHERE case_no = ? ORDER BY ord", case_no)
    return [(loads(r[0]), r[1]) for r in rows]


def notice(db: Database, notice_id: str) -> dict[str, Any] | None:
    row = db.one("SELECT body FROM lic_notices WHERE notice_id = ?", notice_id)
    return loads(row[0]) if row else None


# ---------------------------------------------------------------------------------- counters
def next_counter(db: Database, name: str) -> int:
    """The next number of a named counter (1, 2, 3 …); call inside the write transaction."""
    rows = db.all(
        "INSERT INTO lic_counters (name, last) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET last = last + 1 RETURNING last",
        name,
    )
    return int(rows[0][0])
