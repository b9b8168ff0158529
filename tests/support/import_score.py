"""Score the plan importer against hand-written expectations (tests/fixtures/plans/real/)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from services.assignments.plan_import import PlanDraft, TaskDraft, read_plan
from services.assignments.plan_import_text import fold

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "real"

IDENTITY_FIELDS = ("kind", "number", "issuer", "issuer_parent", "place", "issued_on", "title", "implements",
                   "signer_name", "signer_title", "signing_authority")
EXACT_FIELDS = frozenset({"number", "implements", "kind", "issued_on"})  # symbols and dates keep their case
# The warning codes that say "this field was looked for and not found".
MISSING_WARNINGS = {
    "kind": {"kind_heading_not_found"}, "number": {"number_not_found"}, "issuer": {"issuer_not_found"},
    "issuer_parent": {"issuer_not_found"}, "place": {"place_not_found"}, "issued_on": {"issue_date_not_found"},
    "title": {"title_not_found", "kind_heading_not_found"}, "implements": {"implements_not_found"},
    "signer_name": {"signer_name_not_found", "signature_not_found"},
    "signer_title": {"signer_title_not_found", "signature_not_found"},
    "signing_authority": {"signature_not_found"},
}
_AUTHORITY = re.compile(r"^(t/m|tm\.?|k/t|kt\.?|t/l|tl\.?|tuq\.?)\s*")
_ABBREVIATIONS = (("ubnd", "ủy ban nhân dân"), ("hđnd", "hội đồng nhân dân"), ("ubmttq", "ủy ban mặt trận tổ quốc"),
                  ("mttq", "mặt trận tổ quốc"))


def text_key(value: object) -> str:
    """A text compared without case, spacing, quotes or trailing punctuation."""
    folded = fold(str(value))
    folded = re.sub(r"[\"“”'‘’*]", "", folded)
    return re.sub(r"\s+", " ", folded).strip(" .,;:")


def field_key(name: str, value: object) -> str:
    """How a field's value is compared."""
    if name in EXACT_FIELDS:
        return re.sub(r"\s+", "", str(value))
    key = text_key(value)
    if name == "signing_authority":
        key = _AUTHORITY.sub(lambda m: m.group(1).replace("/", "").rstrip(".") + " ", key)
    return key


def unit_key(name: str) -> str:
    """A unit's name compared without case, a leading "các" or common abbreviations."""
    key = text_key(name)
    for short, long in _ABBREVIATIONS:
        key = re.sub(rf"(?<!\w){short}(?!\w)", long, key)
    return re.sub(r"^(?:các|cho)\s+", "", key)


@dataclass
class Tally:
    """Hits against the parser's answers (precision) and the expectation's (recall)."""

    hits: int = 0
    found: int = 0
    expected: int = 0

    @property
    def precision(self) -> float:
        return self.hits / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.hits / self.expected if self.expected else 1.0

    def add(self, other: Tally) -> None:
        self.hits += other.hits
        self.found += other.found
        self.expected += other.expected


@dataclass
class Score:
    """One document's (or all documents') score."""

    name: str
    tasks: Tally = field(default_factory=Tally)
    units: Tally = field(default_factory=Tally)
    deadlines: Tally = field(default_factory=Tally)
    identity_right: int = 0
    identity_warned: int = 0
    identity_fields: int = 0
    invented: list[str] = field(default_factory=list)  # identity fields read wrong
    wrong_deadlines: list[str] = field(default_factory=list)  # deadlines read where the text sets another or none
    missed: list[str] = field(default_factory=list)  # identity fields empty without a warning
    notes: list[str] = field(default_factory=list)  # what was missed, to read when improving
    unreadable: int = 0  # expected tasks in a scrambled table, warned and counted apart

    def add(self, other: Score) -> None:
        for name in ("tasks", "units", "deadlines"):
            getattr(self, name).add(getattr(other, name))
        self.identity_right += other.identity_right
        self.identity_warned += other.identity_warned
        self.identity_fields += other.identity_fields
        self.unreadable += other.unreadable
        self.invented += [f"{other.name}: {x}" for x in other.invented]
        self.wrong_deadlines += [f"{other.name}: {x}" for x in other.wrong_deadlines]
        self.missed += [f"{other.name}: {x}" for x in other.missed]

    def summary(self) -> dict[str, object]:
        return {
            "documents": self.name, "tasks_precision": round(self.tasks.precision, 3),
            "tasks_recall": round(self.tasks.recall, 3), "units_precision": round(self.units.precision, 3),
            "units_recall": round(self.units.recall, 3), "deadlines_precision": round(self.deadlines.precision, 3),
            "deadlines_recall": round(self.deadlines.recall, 3),
            "identity_right": self.identity_right, "identity_empty_with_warning": self.identity_warned,
            "identity_fields": self.identity_fields, "identity_invented": len(self.invented),
            "identity_missed": len(self.missed), "deadlines_wrong": len(self.wrong_deadlines),
            "tasks": f"{self.tasks.hits}/{self.tasks.expected} expected, {self.tasks.found} read",
            "unreadable_tasks_warned": self.unreadable,
            "units": f"{self.units.hits}/{self.units.expected} expected, {self.units.found} read",
        }


def score_identity(draft: PlanDraft, expected: dict, warnings: set[str], score: Score) -> None:
    """Each identity field is right, empty with a warning, or (a failure) missed or invented."""
    for name in IDENTITY_FIELDS:
        if name not in expected:
            continue
        want, got = expected[name], getattr(draft, name)
        score.identity_fields += 1
        if got is not None and isinstance(got, date):
            got = got.isoformat()
        if want is None:
            if got is None:
                score.identity_right += 1
            else:
                score.invented.append(f"{name}: {got!r} where the document has none")
        elif got is None:
            if MISSING_WARNINGS.get(name, set()) & warnings:
                score.identity_warned += 1
            else:
                score.missed.append(f"{name}: empty without a warning (expected {want!r})")
        elif field_key(name, got) == field_key(name, want):
            score.identity_right += 1
        else:
            score.invented.append(f"{name}: {got!r} instead of {want!r}")


def match_tasks(tasks: list[TaskDraft], expected: list[dict]) -> list[tuple[dict, TaskDraft | None]]:
    """Pair each expected task with the parsed task whose text starts as it says (in order, once)."""
    keys = [text_key(t.text) for t in tasks]
    used: set[int] = set()
    pairs: list[tuple[dict, TaskDraft | None]] = []
    for want in expected:
        start = text_key(want["starts"])
        index = next((i for i, key in enumerate(keys) if i not in used and key.startswith(start)), None)
        if index is not None:
            used.add(index)
        pairs.append((want, tasks[index] if index is not None else None))
    return pairs


def score_document(path: Path) -> Score:
    """Parse one fixture and score it against its expectation."""
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    draft, notes = read_plan(path.read_text(encoding="utf-8-sig"))
    score = Score(path.stem)
    codes = {note.code for note in notes}
    score_identity(draft, expected["identity"], codes, score)
    readable = [t for t in expected["tasks"] if not t.get("unreadable")]
    score.unreadable = len(expected["tasks"]) - len(readable)
    if score.unreadable and "table_garbled" not in codes:
        score.missed.append(f"{score.unreadable} unreadable tasks without a table_garbled warning")
    pairs = match_tasks(draft.tasks, readable)
    matched = {id(task) for _, task in pairs if task is not None}
    score.tasks = Tally(hits=len(matched), found=len(draft.tasks), expected=len(readable))
    for want, task in pairs:
        units = {(unit_key(u["name"]), u["role"]) for u in want.get("units", [])}
        got = {(unit_key(r.text), r.role) for r in task.responsible} if task else set()
        score.units.expected += len(units)
        score.units.hits += len(units & got)
        score.units.found += len(got)
        if task is None:
            score.notes.append(f"task not read: {want['starts']!r}")
        else:
            score.notes += [f"{task.code}: unit missed {u}" for u in units - got]
            score.notes += [f"{task.code}: unit not expected {u}" for u in got - units]
        want_day = want.get("deadline")
        got_day = task.deadline.isoformat() if task and task.deadline else None
        score.deadlines.expected += want_day is not None
        score.deadlines.found += got_day is not None
        score.deadlines.hits += want_day is not None and got_day == want_day
        if got_day is not None and got_day != want_day:
            score.wrong_deadlines.append(f"{task.code if task else '?'}: deadline {got_day} instead of {want_day}")
        elif want_day and task is not None and got_day is None:
            score.notes.append(f"{task.code}: deadline {want_day} not read")
    for task in draft.tasks:
        if id(task) not in matched:
            score.units.found += len(task.responsible)
            score.deadlines.found += task.deadline is not None
            score.notes.append(f"{task.code}: not expected: {task.text[:60]!r}")
    return score


def fixtures() -> list[Path]:
    """The real documents that have an expectation."""
    return sorted(p for p in REAL.glob("*.txt") if p.with_suffix(".expected.json").exists())


def score_all() -> tuple[Score, list[Score]]:
    """Every document's score and their total."""
    scores = [score_document(path) for path in fixtures()]
    total = Score(f"{len(scores)} documents")
    for score in scores:
        total.add(score)
    return total, scores


def big_document(megabytes: float) -> str:
    """A real document (Kon Tum's 435/QĐ-UBND) with its task section repeated past `megabytes` of UTF-8."""
    source = REAL / "b-qd-ubnd-kon-tum-435-2020.txt"
    head, body = source.read_text(encoding="utf-8").split("II. NỘI DUNG HOẠT ĐỘNG", 1)
    copies = int(megabytes * 1_000_000 // len(body.encode("utf-8"))) + 1
    return f"{head}II. NỘI DUNG HOẠT ĐỘNG{body * copies}"
