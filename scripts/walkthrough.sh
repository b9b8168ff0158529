#!/usr/bin/env bash
# The README walkthrough as a script: create units, officials, a plan, assign it, report progress,
# read the export. Needs curl and jq, and a running plantrack (docker compose up / plantrack run).
set -euo pipefail
A=${A:-http://localhost:8001}
R=${R:-http://localhost:8003}
ADMIN="Authorization: Bearer ${PLANTRACK_ADMIN_TOKEN:-change-me-admin-token}"
J="Content-Type: application/json"
SFX=${SFX:-$RANDOM}   # unit codes, emails and plan numbers are unique: rerunning makes new ones

post() { curl -sf -X POST "$A$1" -H "$ADMIN" -H "$J" -d "$2"; }

DUK=$(post /units "{\"code\":\"DUK-$SFX\",\"name\":\"Đảng ủy Khối (thử nghiệm)\",\"kind\":\"bloc_committee\"}" | jq .id)
BTG=$(post /units "{\"code\":\"BTG-$SFX\",\"name\":\"Ban Tuyên giáo (thử nghiệm)\",\"kind\":\"advisory_board\",\"parent_id\":$DUK}" | jq .id)
CELL=$(post /units "{\"code\":\"CB-$SFX\",\"name\":\"Chi bộ Sở Tài chính\",\"kind\":\"party_cell\",\"parent_id\":$DUK}" | jq .id)

post /officials "{\"name\":\"Nguyễn Thị Lan\",\"email\":\"lan.$SFX@example.vn\",\"title\":\"Trưởng ban\",\"unit_id\":$BTG,\"role\":\"supervisor\"}" >/dev/null
OFFICER=$(post /officials "{\"name\":\"Trần Văn Bình\",\"email\":\"binh.$SFX@example.vn\",\"title\":\"Bí thư Chi bộ\",\"unit_id\":$CELL,\"role\":\"unit_officer\"}" | jq .id)
TOKEN=$(post /officials/$OFFICER/tokens '{"name":"laptop"}' | jq -r .token)

PLAN=$(post /plans "{\"number\":\"$SFX-KH/ĐUK\",\"title\":\"Kế hoạch thử nghiệm\",\"place\":\"Trà Vinh\",\"issued_on\":\"2026-11-27\",\"issuer_unit_id\":$DUK,\"tasks\":[{\"code\":\"III.1\",\"title\":\"Cụ thể hóa thành kế hoạch của chi bộ\",\"due_on\":\"2027-01-31\"}]}")
PLAN_ID=$(echo "$PLAN" | jq .id); TASK_ID=$(echo "$PLAN" | jq '.tasks[0].id')
ASSIGNMENT=$(post /plans/$PLAN_ID/assignments "{\"task_id\":$TASK_ID,\"unit_ids\":[$CELL]}" | jq '.[0].id')

curl -sf -X POST $A/assignments/$ASSIGNMENT/updates -H "Authorization: Bearer $TOKEN" -H "$J" -H 'If-Match: "1"' \
  -d '{"status":"in_progress","progress":40,"summary":"Đã quán triệt đến 100% đảng viên.","difficulties":"Chưa có kinh phí tập huấn."}' | jq -c .

for _ in $(seq 1 50); do
  if curl -sf "$R/plans/$PLAN_ID/export.csv" | grep -q "Đang thực hiện"; then break; fi
  sleep 0.2
done
curl -sf "$R/plans/$PLAN_ID/export.csv"
