"""The bench result as a Markdown table: each stage, its paired limit, the ratio and the target."""

from typing import Any

# (label, project key, limit key, ratio key, target, unit)
ROWS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("POST /assignments/{id}/updates", "api_update_per_s", "bare_api_per_s", "api_update_ratio", "≥ 0.5×", "req/s"),
    ("outbox relay", "relay_publish_per_s", "raw_publish_per_s", "relay_publish_ratio", "≥ 0.7×", "events/s"),
    ("reporting consumer", "reporting_consume_per_s", "raw_consume_per_s", "reporting_consume_ratio", "≥ 0.5×",
     "events/s"),
    ("notifications consumer", "notifications_consume_per_s", "raw_consume_per_s", "notifications_consume_ratio",
     "≥ 0.5×", "events/s"),
)
# (label, key, target, unit)
SINGLES: tuple[tuple[str, str, str, str], ...] = (
    ("read-model lag p50", "lag_read_model_p50_ms", "", "ms"),
    ("read-model lag p99", "lag_read_model_p99_ms", "< 100", "ms"),
    ("email lag p50", "lag_email_p50_ms", "", "ms"),
    ("email lag p99", "lag_email_p99_ms", "< 1000", "ms"),
    ("emails sent", "emails_per_s", "", "emails/s"),
    ("GET /plans/{id}/progress", "progress_ms", "≤ 50", "ms"),
    ("export.csv", "export_csv_s", "≤ 1", "s"),
    ("export.xlsx", "export_xlsx_s", "≤ 1", "s"),
)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    return str(value)


# (label, key): CPU milliseconds per item of a stage, by process (services/bench/cpu.py)
CPU: tuple[tuple[str, str], ...] = (
    ("API, per request", "api_update_cpu_ms"),
    ("relay, per event", "relay_cpu_ms"),
    ("reporting, per event", "reporting_cpu_ms"),
    ("notifications, per event", "notifications_cpu_ms"),
    ("steady, per update", "steady_cpu_ms"),
)


def render(result: dict[str, Any]) -> str:
    """Markdown: the paired stages, the single figures, CPU per item by process, then the rest."""
    lines = ["| stage | plantrack | limit | ratio | target |", "|---|---|---|---|---|"]
    for label, key, limit, ratio, target, unit in ROWS:
        lines.append(f"| {label} | {_fmt(result.get(key))} {unit} | {_fmt(result.get(limit))} {unit} "
                     f"| {_fmt(result.get(ratio))} | {target} |")
    lines += ["", "| figure | value | target |", "|---|---|---|"]
    for label, key, target, unit in SINGLES:
        lines.append(f"| {label} | {_fmt(result.get(key))} {unit} | {target} {unit if target else ''} |")
    lines += ["", "| CPU ms | by process (machine: all of it) |", "|---|---|"]
    for label, key in CPU:
        if result.get(key):
            lines.append(f"| {label} | {', '.join(f'{n} {v:.2f}' for n, v in result[key].items())} |")
    shown = {key for row in ROWS for key in row[1:4]} | {s[1] for s in SINGLES} | {c[1] for c in CPU}
    rest = {k: v for k, v in result.items() if k not in shown}
    lines += ["", ", ".join(f"{k}={_fmt(v)}" for k, v in rest.items())]
    return "\n".join(lines)
