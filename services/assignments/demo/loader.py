"""Demo data: the seed Plan 41-KH/ĐUK with a plausible bloc of units and officials.

Loaded through the public API (so every event flows as in real use) and idempotent: what
exists already (by unit code, official email, plan number) is left alone. Units and people
other than the document's own are fictional.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.assignments.plan_import import PlanDraft, TaskDraft, parse_plan

SEED = Path(__file__).with_name("ke-hoach-41-KH-DUK.txt")

UNITS: list[tuple[str, str, str, str | None]] = [
    ("DUK", "Đảng ủy Khối các cơ quan và doanh nghiệp tỉnh Trà Vinh", "bloc_committee", None),
    ("BTG", "Ban Tuyên giáo Đảng ủy Khối", "advisory_board", "DUK"),
    ("BTC", "Ban Tổ chức Đảng ủy Khối", "advisory_board", "DUK"),
    ("UBKT", "Ủy ban Kiểm tra Đảng ủy Khối", "advisory_board", "DUK"),
    ("VP", "Văn phòng Đảng ủy Khối", "advisory_board", "DUK"),
    ("DB-SYT", "Đảng bộ Sở Y tế", "grassroots_committee", "DUK"),
    ("DB-SGDDT", "Đảng bộ Sở Giáo dục và Đào tạo", "grassroots_committee", "DUK"),
    ("DB-PCTV", "Đảng bộ Công ty Điện lực Trà Vinh", "grassroots_committee", "DUK"),
    ("CB-SXD", "Chi bộ Sở Xây dựng", "party_cell", "DUK"),
    ("CB-SKHDT", "Chi bộ Sở Kế hoạch và Đầu tư", "party_cell", "DUK"),
    ("CB-BQLKKT", "Chi bộ Ban Quản lý Khu kinh tế", "party_cell", "DUK"),
    ("DTN-K", "Đoàn Thanh niên Khối", "mass_organisation", "DUK"),
    ("TTTU", "Thường trực Tỉnh ủy", "external", None),
    ("BTG-TU", "Ban Tuyên giáo Tỉnh ủy", "external", None),
]

OFFICIALS: list[tuple[str, str, str, str, str]] = [
    ("Nguyễn Thị Thu Hà", "ha.ntt@btg.demo.plantrack.vn", "Trưởng ban", "BTG", "supervisor"),
    ("Lê Minh Tâm", "tam.lm@btg.demo.plantrack.vn", "Phó Trưởng ban", "BTG", "supervisor"),
    ("Thạch Văn Sơn", "son.tv@ubkt.demo.plantrack.vn", "Chủ nhiệm", "UBKT", "supervisor"),
    ("Trần Quốc Khánh", "khanh.tq@syt.demo.plantrack.vn", "Bí thư Đảng ủy", "DB-SYT", "unit_officer"),
    ("Kiên Thị Sa Rên", "ren.kts@sgddt.demo.plantrack.vn", "Phó Bí thư Đảng ủy", "DB-SGDDT", "unit_officer"),
    ("Võ Thanh Phong", "phong.vt@pctv.demo.plantrack.vn", "Bí thư Đảng ủy", "DB-PCTV", "unit_officer"),
    ("Huỳnh Ngọc Diệp", "diep.hn@sxd.demo.plantrack.vn", "Bí thư Chi bộ", "CB-SXD", "unit_officer"),
    ("Phan Văn Lộc", "loc.pv@skhdt.demo.plantrack.vn", "Bí thư Chi bộ", "CB-SKHDT", "unit_officer"),
    ("Dương Thị Mỹ", "my.dt@bqlkkt.demo.plantrack.vn", "Bí thư Chi bộ", "CB-BQLKKT", "unit_officer"),
    ("Lâm Hoàng Nam", "nam.lh@tttu.demo.plantrack.vn", "Chuyên viên", "TTTU", "observer"),
]

DEMO_OFFICER_EMAIL = "diep.hn@sxd.demo.plantrack.vn"


@dataclass
class DemoResult:
    """What the loader created or found."""

    plan_id: int
    units: dict[str, int] = field(default_factory=dict)
    assignments: int = 0
    officer_email: str = DEMO_OFFICER_EMAIL
    officer_token: str | None = None


def _all(client: httpx.Client, path: str) -> list[dict]:
    items: list[dict] = []
    while True:
        page = client.get(path, params={"offset": len(items), "limit": 200})
        page.raise_for_status()
        body = page.json()
        items += body["data"]
        if not body["data"] or len(items) >= body["count"]:
            return items


def _responsible(task: TaskDraft, by_code: dict[str, TaskDraft]) -> TaskDraft | None:
    """The task itself or the nearest ancestor that names who is responsible."""
    current: TaskDraft | None = task
    while current is not None and not current.responsible:
        current = by_code.get(current.parent_code) if current.parent_code else None
    return current


def plan_body(draft: PlanDraft, issuer_id: int) -> dict:
    """The POST /plans body for a parsed plan."""
    return {
        "number": draft.number, "kind": draft.kind or "ke_hoach", "title": draft.title or draft.number,
        "issuer_unit_id": issuer_id, "place": draft.place or "", "issued_on": draft.issued_on,
        "implements": draft.implements, "recipients": draft.recipients,
        "signer": " ".join(p for p in (draft.signer_title, draft.signer_name) if p),
        "tasks": [
            {"code": t.code, "title": t.title[:500], "text": t.text, "parent_code": t.parent_code,
             "kind": "ongoing" if t.ongoing else "one_off", "due_on": t.deadline}
            for t in draft.tasks
        ],
    }


def load_demo(base_url: str, admin_token: str, *, officer_token: bool = True) -> DemoResult:
    """Create the demo bloc, its officials, the seed plan and its assignments (idempotently)."""
    draft = parse_plan(SEED.read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=30) as c:
        units = {u["code"]: u for u in _all(c, "/units")}
        for code, name, kind, parent in UNITS:
            if code not in units:
                body = {"code": code, "name": name, "kind": kind,
                        "parent_id": units[parent]["id"] if parent else None}
                units[code] = c.post("/units", json=body).raise_for_status().json()
        officials = {o["email"]: o for o in _all(c, "/officials")}
        for name, email, title, unit, role in OFFICIALS:
            if email not in officials:
                body = {"name": name, "email": email, "title": title, "unit_id": units[unit]["id"], "role": role}
                officials[email] = c.post("/officials", json=body).raise_for_status().json()
        plans = {p["number"]: p for p in _all(c, "/plans")}
        result = DemoResult(plan_id=0, units={k: v["id"] for k, v in units.items()})
        if draft.number in plans:
            result.plan_id = plans[draft.number]["id"]
        else:
            plan = c.post("/plans", json=_jsonable(plan_body(draft, units["DUK"]["id"]))).raise_for_status().json()
            result.plan_id = plan["id"]
            result.assignments = _assign_all(c, plan, draft, units)
        if officer_token:
            officer = officials[DEMO_OFFICER_EMAIL]
            issued = c.post(f"/officials/{officer['id']}/tokens", json={"name": "demo"}).raise_for_status()
            result.officer_token = issued.json()["token"]
        return result


def _assign_all(c: httpx.Client, plan: dict, draft: PlanDraft, units: dict[str, dict]) -> int:
    """Assign every leaf task to the units its (inherited) responsible clause names."""
    by_code = {t.code: t for t in draft.tasks}
    parents = {t.parent_code for t in draft.tasks if t.parent_code}
    task_ids = {t["code"]: t["id"] for t in plan["tasks"]}
    count = 0
    for task in draft.tasks:
        if task.code in parents:
            continue
        owner = _responsible(task, by_code)
        if owner is None:
            continue
        for resp in owner.responsible:
            ids = sorted({u["id"] for u in units.values()
                          if u["kind"] in resp.unit_kinds or u["code"] in resp.unit_codes})
            if not ids:
                continue
            body = {"task_id": task_ids[task.code], "unit_ids": ids, "role": resp.role}
            response = c.post(f"/plans/{plan['id']}/assignments", json=body)
            if response.status_code == 409:  # a unit named twice for one task keeps its first role
                for unit_id in ids:
                    single = c.post(f"/plans/{plan['id']}/assignments", json={**body, "unit_ids": [unit_id]})
                    count += single.status_code == 201
                continue
            count += len(response.raise_for_status().json())
    return count


def _jsonable(body: dict) -> dict:
    """Dates to ISO strings, for httpx's json encoder."""
    return json.loads(json.dumps(body, default=str))
