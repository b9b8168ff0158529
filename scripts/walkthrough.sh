#!/usr/bin/env bash
# The README walkthrough as one script. Needs curl and jq, and a running plantrack without the demo
# data (`plantrack run`, or `docker compose up` after removing the demo service). Run it once.
set -euo pipefail
A=${A:-http://localhost:8001}
R=${R:-http://localhost:8003}
SEED=${SEED:-services/assignments/demo/ke-hoach-41-KH-DUK.txt}
ADMIN="Authorization: Bearer ${PLANTRACK_ADMIN_TOKEN:?set PLANTRACK_ADMIN_TOKEN to the admin token}"
J="Content-Type: application/json"
post() { curl -sf -X POST "$A$1" -H "$ADMIN" -H "$J" -d "${2:-}"; }
as() { local token=$1; shift; curl -sf -H "Authorization: Bearer $token" -H "$J" "$@"; }

# 1. The bloc committee, two of its boards and two party cells
DUK=$(post /units '{"code":"DUK","name":"Đảng ủy Khối các cơ quan và doanh nghiệp","kind":"bloc_committee"}' | jq .id)
BTG=$(post /units "{\"code\":\"BTG\",\"name\":\"Ban Tuyên giáo Đảng ủy Khối\",\"kind\":\"advisory_board\",\"parent_id\":$DUK}" | jq .id)
post /units "{\"code\":\"UBKT\",\"name\":\"Ủy ban Kiểm tra Đảng ủy Khối\",\"kind\":\"advisory_board\",\"parent_id\":$DUK}" >/dev/null
CELL=$(post /units "{\"code\":\"CB-STC\",\"name\":\"Chi bộ Sở Tài chính\",\"kind\":\"party_cell\",\"parent_id\":$DUK}" | jq .id)
post /units "{\"code\":\"CB-SYT\",\"name\":\"Chi bộ Sở Y tế\",\"kind\":\"party_cell\",\"parent_id\":$DUK}" >/dev/null

# 2. A supervisor at the propaganda board and an officer of the party cell, each with a token
SUP=$(post /officials "{\"name\":\"Nguyễn Thị Lan\",\"email\":\"lan@example.vn\",\"title\":\"Trưởng ban\",\"unit_id\":$BTG,\"role\":\"supervisor\"}" | jq .id)
OFF=$(post /officials "{\"name\":\"Trần Văn Bình\",\"email\":\"binh@example.vn\",\"title\":\"Bí thư Chi bộ\",\"unit_id\":$CELL,\"role\":\"unit_officer\"}" | jq .id)
SUP_TOKEN=$(post /officials/$SUP/tokens '{"name":"laptop"}' | jq -r .token)
OFF_TOKEN=$(post /officials/$OFF/tokens '{"name":"laptop"}' | jq -r .token)

# 3. Import the plan document: a draft to review, with assignments suggested from its text
curl -sf -X POST $A/plans/import -H "$ADMIN" -H "Content-Type: text/plain" --data-binary @"$SEED" > /tmp/draft.json
jq -r '.plan.number, (.plan.tasks | length | tostring) + " tasks", (.warnings[] | "warning: " + .)' /tmp/draft.json

# 4. Save it, apply the suggested assignments, publish
PLAN=$(jq '.plan' /tmp/draft.json | curl -sf -X POST $A/plans -H "$ADMIN" -H "$J" -d @-)
PLAN_ID=$(echo "$PLAN" | jq .id)
echo "$PLAN" | jq -c '[.tasks[] | {(.code): .id}] | add' > /tmp/task_ids.json
jq -c '.suggested_assignments[]' /tmp/draft.json | while read -r s; do
  TASK_ID=$(jq -r --arg c "$(echo "$s" | jq -r .task_code)" '.[$c]' /tmp/task_ids.json)
  post /plans/$PLAN_ID/assignments "$(echo "$s" | jq -c --argjson t "$TASK_ID" '{task_id: $t, unit_ids, role}')" >/dev/null
done
post /plans/$PLAN_ID/publish >/dev/null

# 5. The party cell reports on III.1 (If-Match carries the version it last saw)
ASSIGNMENT=$(as "$OFF_TOKEN" "$A/assignments?plan_id=$PLAN_ID" | jq '.data[] | select(.task_code == "III.1") | .id')
UPDATE=$(as "$OFF_TOKEN" -X POST $A/assignments/$ASSIGNMENT/updates -H 'If-Match: "1"' \
  -d '{"status":"in_progress","progress":40,"summary":"Đã quán triệt đến 100% đảng viên.","difficulties":"Chưa có kinh phí tập huấn."}' | jq .id)

# 6. The supervisor returns it; the unit must report again
as "$SUP_TOKEN" -X POST $A/updates/$UPDATE/review -d '{"decision":"returned","reason":"Đề nghị nêu rõ số đảng viên đã được quán triệt."}' | jq -c '{review_state, review_reason}'
as "$OFF_TOKEN" $A/assignments/$ASSIGNMENT | jq -c '{status, progress, needs_resubmission, version}'
as "$OFF_TOKEN" -X POST $A/assignments/$ASSIGNMENT/updates \
  -d '{"status":"in_progress","progress":40,"summary":"Đã quán triệt cho 15/15 đảng viên (100%)."}' | jq -c '{id, status, progress}'

# 7. The cell registers its own plan; the committee opens the preliminary review; the cell reports
as "$OFF_TOKEN" -X POST $A/plans/$PLAN_ID/unit-plans \
  -d '{"number":"05-KH/CB","issued_on":"2022-01-10","title":"Kế hoạch thực hiện Kế hoạch số 41-KH/ĐUK"}' | jq -c '{id, number}'
ROUND=$(as "$SUP_TOKEN" -X POST $A/plans/$PLAN_ID/reviews -d '{"kind":"preliminary","period_end":"2026-12-31","submit_by":"2027-01-15"}' | jq .id)
as "$OFF_TOKEN" -X POST $A/reviews/$ROUND/submissions -d '{"summary":"Chi bộ đã hoàn thành việc quán triệt và xây dựng kế hoạch."}' | jq -c '{id, on_time}'
as "$SUP_TOKEN" $A/reviews/$ROUND | jq -c '{expected, submitted, on_time, missing}'
as "$SUP_TOKEN" $A/plans/$PLAN_ID/completeness | jq -c '.[] | {unit_code, assignments, unit_plan_registered}'

# 8. The committee's export
sleep 1
curl -sf "$R/plans/$PLAN_ID/export.csv" -H "$ADMIN" | head -5   # the same token on every service
