"""Portal embedding: a school's student portal serves audits from the province's ledger, acting as the school.

The portal has its own database and SQLAlchemy engine (here, one table: who looked at which record, and the
answer); the ledger lives in the same database, opened from the same URL with ``acting_as="HNJX"``, so the
portal reads only the records 湖南湘江技师学院 has a reason to read. A request for a student of a school outside
the alliance is refused with 403, exactly as for a student who does not exist (a refusal does not tell that the
student exists).

``make_app(ledger, engine)`` is a plain WSGI application (PEP 3333): mount it in any WSGI server. ``main`` starts no
server; it calls the application in-process with made-up requests and returns the responses.

Run it with ``python examples/portal_embedding.py`` (a database in a temporary directory) or call
``main("sqlite:///portal.db")``.
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs
from wsgiref.util import setup_testing_defaults

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, create_engine, insert, select
from sqlalchemy.engine import Engine

import credit_ledger as cl

SCHOOL = "HNJX"
AS_OF = date(2026, 7, 31)
PATH = re.compile(r"^/students/(?P<student>[^/]+)/audit$")

metadata = MetaData()
access_log = Table(  # the portal's own table, beside the ledger's
    "portal_access_log", metadata,
    Column("id", Integer, primary_key=True),
    Column("path", String, nullable=False),
    Column("student_id", String),
    Column("status", Integer, nullable=False),
    Column("as_of", Date),
)

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def make_app(ledger: cl.Ledger, engine: Engine) -> Callable[[dict, StartResponse], Iterable[bytes]]:
    """A WSGI application serving ``GET /students/<id>/audit[?as_of=YYYY-MM-DD]`` as the audit report's JSON;
    403 for a student the ledger's school may not read, 404 for another path, 400 for a bad date."""

    def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        match = PATH.match(path)
        student, day, status, body = None, None, 404, {"error": "not found"}
        if environ.get("REQUEST_METHOD", "GET") != "GET":
            status, body = 405, {"error": "method not allowed"}
        elif match:
            student = match["student"]
            query = parse_qs(environ.get("QUERY_STRING", ""))
            try:
                day = date.fromisoformat(query["as_of"][0]) if "as_of" in query else date.today()
            except ValueError:
                status, body = 400, {"error": "as_of must be a date like 2026-07-31"}
            else:
                status, body = _audit(ledger, student, day)
        with engine.begin() as conn:
            conn.execute(insert(access_log).values(path=path, student_id=student, status=status, as_of=day))
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        reason = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}
        start_response(f"{status} {reason[status]}", [("Content-Type", "application/json; charset=utf-8"),
                                                      ("Content-Length", str(len(payload)))])
        return [payload]

    return app


def _audit(ledger: cl.Ledger, student: str, day: date) -> tuple[int, dict]:
    """The status code and body of a student's audit: the report, or why there is none."""
    try:
        return 200, json.loads(ledger.audit(student, as_of=day).to_json())
    except cl.PermissionDenied as refused:
        return 403, {"error": refused.issues[0].code}
    except cl.UnknownReference as unknown:  # readable, but never enrolled: nothing to audit
        return 404, {"error": unknown.issues[0].code}


def call(app: Callable, path: str, query: str = "") -> tuple[int, dict]:
    """Call a WSGI application in-process, as a server would, and return the status code and the JSON body."""
    environ: dict[str, Any] = {"PATH_INFO": path, "QUERY_STRING": query}
    setup_testing_defaults(environ)
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, headers

    body = b"".join(app(environ, start_response))
    return int(seen["status"].split()[0]), json.loads(body)


def outside_school() -> cl.Catalog:
    """A school outside the alliance, with one program: the portal's school has no reason to read its records."""
    return cl.Catalog.model_validate({
        "institutions": [{"code": "YYJX", "name": "岳阳技工学校", "kind": "technical_school"}],
        "courses": [{"institution": "YYJX", "code": "YY-WELD", "title": "焊接工艺", "hours": 64,
                     "category": "core"}],
        "programs": [{"institution": "YYJX", "code": "YY-WELD-2025", "title": "焊接加工（中级工）",
                      "level": "intermediate_worker", "standard_years": 3, "total_credits": 4,
                      "requirements": {"id": "root", "courses": ["YY-WELD"]}}],
    })


def setup(url: str) -> None:
    """The province's operator loads the catalogs and two schools record their students (as registrars would)."""
    operator = cl.Ledger.open(url, create=True)  # the ledger first: a database that holds other tables is refused
    operator.load_catalog(cl.Catalog.sample())
    operator.load_catalog(outside_school())
    operator.append_many([
        cl.Enrolled(event_id="P-HN-1-enrol", student_id="HN-2025-0007", occurred_on=date(2025, 9, 1),
                    institution="HNJX", program="CNC-SR-2025"),
        cl.CourseCompleted(event_id="P-HN-1-MECH101", student_id="HN-2025-0007", occurred_on=date(2026, 1, 12),
                           institution="HNJX", course="MECH101", grade=86),
        cl.Enrolled(event_id="P-YY-1-enrol", student_id="YY-2025-0042", occurred_on=date(2025, 9, 1),
                    institution="YYJX", program="YY-WELD-2025"),
    ])
    operator.close()


def main(db_url: str | None = None) -> list[tuple[str, int, dict]]:
    with tempfile.TemporaryDirectory(prefix="portal-") as scratch:
        url = db_url or f"sqlite:///{Path(scratch) / 'portal.db'}"
        setup(url)
        engine = create_engine(url)                      # the portal's own engine and tables
        metadata.create_all(engine)
        ledger = cl.Ledger.open(engine.url.render_as_string(hide_password=False), acting_as=SCHOOL)
        app = make_app(ledger, engine)
        responses = []
        for path, query in (("/students/HN-2025-0007/audit", f"as_of={AS_OF}"),  # our student: 200
                            ("/students/YY-2025-0042/audit", f"as_of={AS_OF}"),  # another school's: 403
                            ("/students/NOBODY/audit", ""),                      # nobody: 403 as well
                            ("/students/HN-2025-0007/audit", "as_of=yesterday"),  # 400
                            ("/health", "")):                                    # 404
            status, body = call(app, path, query)
            print(status, path, body.get("status") or body.get("error"))
            responses.append((path, status, body))
        with engine.connect() as conn:
            logged = conn.execute(select(access_log.c.status)).scalars().all()
        print("access log:", logged)
        ledger.close()
        engine.dispose()
    return responses


if __name__ == "__main__":
    main()
