"""Print the importer's precision and recall on the real documents (tests/fixtures/plans/real/).

    .venv/bin/python scripts/score_import.py [--json] [--notes]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.import_score import score_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object: the total and each document")
    parser.add_argument("--notes", action="store_true", help="also list what each document missed")
    args = parser.parse_args()
    total, scores = score_all()
    if args.json:
        print(json.dumps({"total": total.summary(), "documents": [s.summary() for s in scores]},
                         ensure_ascii=False, indent=2))
        return
    print(f"{'document':<44} tasks P/R    units P/R    deadl. P/R   identity")
    for score in [*scores, total]:
        s = score.summary()
        print(f"{score.name[:44]:<44} {s['tasks_precision']:.2f}/{s['tasks_recall']:.2f}  "
              f"{s['units_precision']:.2f}/{s['units_recall']:.2f}  {s['deadlines_precision']:.2f}/"
              f"{s['deadlines_recall']:.2f}  {s['identity_right']}+{s['identity_empty_with_warning']}w"
              f"/{s['identity_fields']}")
        if args.notes and score is not total:
            for line in score.invented + score.missed + score.wrong_deadlines + score.notes:
                print(f"    {line}")
    print(json.dumps(total.summary(), ensure_ascii=False))


if __name__ == "__main__":
    main()
