"""Demo data: the seed Plan 41-KH/ĐUK with a plausible bloc of units and officials.

Loaded through the public API (so every event flows as in real use) and idempotent: what
exists already (by unit code, official email, plan number, the officer's live "demo" token) is
left alone. Units and people other than the document's own are fictional.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shared.events.base import as_utc

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
DEMO_TOKEN_NAME = "demo"


@dataclass
class DemoResult:
    """What the loader created or found."""

    plan_id: int
    units: dict[str, int] = field(default_factory=dict)
    assignments: int = 0
    officer_email: str = DEMO_OFFICER_EMAIL
    officer_token: str | None = None  # only when this run issued it: a secret is shown once
    officer_token_id: int | None = None

    def officer_line(self) -> str:
        """What to tell the operator about the demo officer's token."""
        if self.officer_token:
            return f"unit officer {self.officer_email} token: {self.officer_token}"
        if self.officer_token_id is not None:
            return (f"unit officer {self.officer_email} already has demo token #{self.officer_token_id} "
                    f"(shown once, when it was issued; revoke it to get a new one on the next run)")
        return f"unit officer {self.officer_email}: no token requested"


def _all(client: httpx.Client, path: str) -> list[dict]:
    items: list[dict] = []
    while True:
        page = client.get(path, params={"offset": len(items), "limit": 200})
        page.raise_for_status()
        body = page.json()
        items += body["data"]
        if not body["data"] or len(items) >= body["count"]:
            return items


def load_demo(base_url: str, admin_token: str, *, officer_token: bool = True) -> DemoResult:
    """Create the demo bloc, its officials, the seed plan and its assignments (idempotently)."""
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
        imported = c.post("/plans/import", content=SEED.read_bytes(),
                          headers={"Content-Type": "text/plain; charset=utf-8"}).raise_for_status().json()
        body = imported["plan"] | {"issuer_unit_id": units["DUK"]["id"]}
        plans = {p["number"]: p for p in _all(c, "/plans")}
        result = DemoResult(plan_id=0, units={k: v["id"] for k, v in units.items()})
        if body["number"] in plans:
            result.plan_id = plans[body["number"]]["id"]
        else:
            plan = c.post("/plans", json=body).raise_for_status().json()
            result.plan_id = plan["id"]
            task_ids = {t["code"]: t["id"] for t in plan["tasks"]}
            for s in imported["suggested_assignments"]:
                assignment = {"task_id": task_ids[s["task_code"]], "unit_ids": s["unit_ids"], "role": s["role"]}
                created = c.post(f"/plans/{plan['id']}/assignments", json=assignment).raise_for_status()
                result.assignments += len(created.json())
            c.post(f"/plans/{plan['id']}/publish").raise_for_status()
        if officer_token:
            officer = officials[DEMO_OFFICER_EMAIL]
            live = _live_demo_token(c, officer["id"])
            if live is not None:
                result.officer_token_id = live
            else:
                issued = c.post(f"/officials/{officer['id']}/tokens", json={"name": DEMO_TOKEN_NAME}).raise_for_status()
                result.officer_token, result.officer_token_id = issued.json()["token"], issued.json()["id"]
        return result


def _live_demo_token(client: httpx.Client, official_id: int) -> int | None:
    """The id of the official's demo token that still works, if there is one."""
    now = datetime.now(UTC)
    for token in client.get(f"/officials/{official_id}/tokens").raise_for_status().json():
        if token["name"] != DEMO_TOKEN_NAME or token["revoked_at"] is not None:
            continue
        expires = datetime.fromisoformat(token["expires_at"]) if token.get("expires_at") else None
        if expires is None or as_utc(expires) > now:
            return int(token["id"])
    return None
