"""The plan importer under load and abuse: linear time, a size cap, a time limit, work off the event
loop, NUL bytes, and fields longer than the model allows."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from services.assignments import planning
from services.assignments.plan_import import ParseTimeout, parse_plan, time_limit
from services.assignments.schemas import PlanCreate, TaskCreate
from services.assignments.settings import AssignmentsSettings
from shared.problems import PROBLEM_JSON
from tests.unit.conftest import Api

SEED = Path(__file__).resolve().parents[2] / "services" / "assignments" / "demo" / "ke-hoach-41-KH-DUK.txt"
HEAD, _, TAIL = SEED.read_text(encoding="utf-8").partition("III- TỔ CHỨC THỰC HIỆN")
TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}

SENTENCES = [
    "Cấp ủy các chi bộ, đảng bộ cơ sở tăng cường công tác tuyên truyền, quán triệt Chương trình số 22-CTr/TU",
    "Ban Tuyên giáo Đảng ủy Khối chủ trì, phối hợp với Văn phòng theo dõi, tổng hợp kết quả thực hiện",
    "giao Ủy ban Kiểm tra Đảng ủy Khối kiểm tra, giám sát việc triển khai thực hiện trước ngày 30/6/2022",
    "xây dựng kế hoạch thực hiện, xác định rõ mục tiêu, nhiệm vụ, giải pháp cụ thể và phân công tổ chức",
    "thường xuyên rà soát, đánh giá kết quả thực hiện trong quý IV/2023 và báo cáo Ban Thường vụ",
]


def numbered_body(size: int) -> str:
    """Realistic-looking numbered items, dashes, pluses and continuation lines, about `size` bytes."""
    lines: list[str] = []
    total, n = 0, 0
    while total < size:
        s = SENTENCES[n % len(SENTENCES)]
        for line in (f"{n % 40 + 1}. {s}, nhiệm vụ số {n}.", f"- {SENTENCES[(n + 1) % 5]};",
                     f"+ {SENTENCES[(n + 2) % 5]}.", f"{SENTENCES[(n + 3) % 5]} và các nội dung có liên quan",
                     "", f"{chr(97 + n % 8)}) {SENTENCES[(n + 4) % 5]}.", ""):
            lines.append(line)
            total += len(line.encode()) + 1
        n += 1
    return "\n".join(lines)


def document(body: str) -> str:
    """The seed's header and tail around `body` as its implementation section."""
    return f"{HEAD}III- TỔ CHỨC THỰC HIỆN\n{body}\n{TAIL}"


BUDGET = AssignmentsSettings().import_timeout_seconds / 2
"""What a document at the size cap may take: half the time limit the service enforces (an absolute
bound in seconds failed on a busy 2-core machine; linearity is checked by its own test below)."""


def timed(text: str, **kw: object) -> float:
    started = time.perf_counter()
    parse_plan(text, **kw)  # type: ignore[arg-type]
    return time.perf_counter() - started


# -- linear time -------------------------------------------------------------------------------

def repeat(first: str, line: str, size: int) -> str:
    """`first`, then `line` over and over up to about `size` bytes."""
    return first + "\n" + "\n".join([line] * (size // (len(line.encode()) + 1)))


SHAPES: dict[str, Callable[[int], str]] = {
    "numbered items": numbered_body,
    "one long paragraph": lambda size: repeat(
        "1. Cấp ủy các chi bộ thực hiện",
        "tiếp tục triển khai các nội dung của kế hoạch một cách nghiêm túc, hiệu quả và thiết thực", size),
    "capital lines": lambda size: repeat("1. CHI BỘ", "TRIỂN KHAI THỰC HIỆN NGHIÊM TÚC", size),
    "many responsible units": lambda size: repeat(
        "1. Chi bộ thực hiện", "phối hợp với Ban Tuyên giáo tổng hợp; phối hợp với Văn phòng theo dõi;", size),
    "recipients": lambda size: repeat("1. Chi bộ thực hiện.\nNơi nhận:\n- Thường trực Tỉnh ủy,",
                                      "các chi bộ, đảng bộ cơ sở trực thuộc", size),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_2_mb_document_parses_well_within_the_time_limit(shape: str) -> None:
    text = document(SHAPES[shape](2_000_000))
    assert len(text.encode()) >= 1_900_000
    assert timed(text) < BUDGET


def test_a_1_mb_document_of_one_letter_lines_parses_well_within_the_time_limit() -> None:
    text = document(repeat("1. Chi bộ thực hiện", "x", 1_000_000))  # the default size cap, in 500,000 lines
    assert timed(text) < BUDGET


def test_a_header_of_many_capital_lines_parses_fast() -> None:
    header = "\n".join(["VÀ CÁC CƠ QUAN TRỰC THUỘC"] * 40_000)  # ~1.1 MB of header joiners
    text = f"ĐẢNG BỘ TỈNH TRÀ VINH\n{header}\nSố 1-KH/ĐUK\nKẾ HOẠCH\nthực hiện\n\nI- NHIỆM VỤ\n1. Chi bộ."
    assert timed(text) < BUDGET


@pytest.mark.parametrize("shape", ["one long paragraph", "capital lines", "recipients"])
def test_four_times_the_text_takes_about_four_times_as_long(shape: str) -> None:
    small, big = document(SHAPES[shape](500_000)), document(SHAPES[shape](2_000_000))
    ratio = min(timed(big) for _ in range(2)) / min(timed(small) for _ in range(2))
    assert ratio < 8, ratio  # linear: about 4; quadratic: about 16


def test_25000_short_lines_parse_fast() -> None:
    body = "\n".join(["x"] * 25_000)  # 50 KB: took 14 s when each line re-read the paragraph so far
    assert timed(document(body)) < 0.5
    assert timed(document("1. Chi bộ thực hiện\n" + body)) < 0.5


def test_the_seed_document_still_reads_the_same_under_a_time_limit() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert parse_plan(text, timeout=30) == parse_plan(text)


# -- time limit --------------------------------------------------------------------------------


def test_a_parse_past_its_time_limit_raises() -> None:
    text = document(numbered_body(1_000_000))
    started = time.perf_counter()
    parse_plan(text, timeout=60)
    whole = time.perf_counter() - started
    started = time.perf_counter()
    with pytest.raises(ParseTimeout, match="seconds"):
        parse_plan(text, timeout=0.05)
    # stopped early: a fraction of the whole parse (relative, so a loaded CI machine slows both alike)
    assert time.perf_counter() - started < whole / 2


def test_the_time_limit_can_come_from_the_context() -> None:
    with time_limit(0.0), pytest.raises(ParseTimeout):
        parse_plan(document(numbered_body(100_000)))
    parse_plan(document(numbered_body(100_000)))  # and ends with the block


# -- NUL bytes and over-long fields ------------------------------------------------------------


def test_nul_and_control_bytes_are_stripped_from_the_document() -> None:
    text = SEED.read_text(encoding="utf-8")
    dirty = text.replace("Số 41", "Số\x00 41").replace("Cấp ủy", "Cấp\x00 ủy").replace("Nơi nhận", "Nơi\x0b nhận")
    draft = parse_plan(dirty.replace("\n", "\x00\n"))
    dumped = draft.model_dump_json()
    assert "\\u0000" not in dumped and "\\u000b" not in dumped
    assert draft.number == "41-KH/ĐUK" and len(draft.tasks) == len(parse_plan(text).tasks)


LONG = "Đ" * 300


def long_fields_document() -> str:
    title_line = "thực hiện Chương trình số 22-CTr/" + "TU" * 40 + " " + "về phát triển kinh tế " * 400
    long_task = "Cấp ủy các chi bộ tăng cường tuyên truyền " + "nội dung cụ thể " * 2_000
    return (
        f"ĐẢNG ỦY KHỐI\nSố 41-KH/{LONG}\nTrà Vinh, ngày 15 tháng 12 năm 2021\n\nKẾ HOẠCH\n{title_line}\n\n"
        f"I- NHIỆM VỤ\n1. {long_task}.\n2. Chi bộ thực hiện.\n\nNơi nhận:\n"
        + "\n".join(f"- Chi bộ số {n}," for n in range(300))
        + "\n\nT/M BAN THƯỜNG VỤ\nPHÓ BÍ THƯ\n\n" + " ".join(["Phạm" + "a" * 60] * 5) + "\n"
    )


def max_length(model: type, field: str) -> int:
    return next(m.max_length for m in model.model_fields[field].metadata if hasattr(m, "max_length"))


def test_fields_longer_than_the_model_allows_are_cut_with_a_warning() -> None:
    draft = parse_plan(long_fields_document())
    assert draft.number is not None and len(draft.number) == max_length(PlanCreate, "number")
    assert draft.title is not None and len(draft.title) <= max_length(PlanCreate, "title")
    assert draft.implements is not None and len(draft.implements) <= max_length(PlanCreate, "implements")
    assert len(draft.tasks[0].text) <= max_length(TaskCreate, "text")
    assert len(draft.recipients) <= max_length(PlanCreate, "recipients")
    assert draft.signer_name is not None and len(draft.signer_name) <= max_length(PlanCreate, "signer")
    for what in ("number", "title", "implements", "task I.1 text", "recipients", "signer"):
        assert any(w.startswith(f"{what} ") and "cut" in w for w in draft.warnings), (what, draft.warnings)


# -- the route ---------------------------------------------------------------------------------


def send(api: Api, content: bytes) -> httpx.Response:
    return api.call("POST", "/plans/import", content=content, headers=TEXT_PLAIN)


def problem(response: httpx.Response, status: int, fragment: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert fragment in response.json()["detail"], response.json()
    return response.json()


def test_an_import_over_the_size_cap_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(import_max_bytes=5_000)
    problem(send(api, SEED.read_bytes() * 2), 413, "5000 bytes")
    assert send(api, SEED.read_bytes()[:4_000].rsplit(b"\n", 1)[0]).status_code == 200


def test_an_import_without_content_length_over_the_cap_is_413(make_api: Callable[..., Api]) -> None:
    api = make_api(import_max_bytes=5_000)

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(4):
            yield SEED.read_bytes()[:3_000]

    response = api.call("POST", "/plans/import", content=chunks(), headers=TEXT_PLAIN)
    problem(response, 413, "5000 bytes")


def test_an_import_past_the_time_limit_is_a_clear_422(make_api: Callable[..., Api]) -> None:
    api = make_api(import_timeout_seconds=0.01)
    started = time.perf_counter()
    problem(send(api, document(numbered_body(900_000)).encode()), 422, "seconds")
    assert time.perf_counter() - started < 2.0


def test_an_import_with_nul_bytes_is_read_without_them(api: Api) -> None:
    result = api.ok(send(api, SEED.read_bytes().replace(b"\n", b"\x00\n")), 200)
    assert result["plan"]["number"] == "41-KH/ĐUK" and len(result["plan"]["tasks"]) == 10
    assert "\\u0000" not in httpx.Response(200, json=result).text


def test_an_import_with_over_long_fields_answers_a_plan_body_that_saves(api: Api) -> None:
    result = api.ok(send(api, long_fields_document().encode()), 200)
    assert any("cut" in w for w in result["warnings"])
    saved = api.ok(api.post("/plans", result["plan"]))
    assert saved["number"] == result["plan"]["number"]


def test_a_document_with_more_tasks_than_a_plan_holds_is_422(api: Api) -> None:
    body = "\n".join(f"{n}. Chi bộ thực hiện nhiệm vụ {n}." for n in range(1, 99)) + "\n"
    text = document(body * 8)  # 784 top-level items under one section, renamed 1#2, 1#3...
    problem(send(api, text.encode()), 422, "500")


async def test_health_answers_while_a_big_import_runs(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    real = planning.read_plan

    def slow_parse(text: str) -> object:
        time.sleep(1.0)  # what parsing a big document costs, without depending on the machine's speed
        return real(text)

    monkeypatch.setattr(planning, "read_plan", slow_parse)
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        async def health() -> float:
            started = time.perf_counter()  # a blocked event loop would also delay the sleep
            await asyncio.sleep(0.2)  # let the import start first
            assert (await client.get("/health")).status_code == 200
            return time.perf_counter() - started

        imported, waited = await asyncio.gather(
            client.post("/plans/import", content=SEED.read_bytes(),
                        headers={**TEXT_PLAIN, "Authorization": "Bearer t"}),
            health(),
        )
    assert imported.status_code == 200, imported.text
    assert waited < 0.6  # 0.2 s of it asleep; the import takes over 1 s
