"""The parts of `plantrack bench`: reading metrics, quantiles of histogram increases, the load
generators against a real uvicorn, the table, and the command's stage choice."""

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from services.bench import cpu
from services.bench.load import Target, closed_loop
from services.bench.processes import ServiceProcess, free_port
from services.bench.run import drain_rate
from services.bench.scrape import parse, quantile
from services.bench.servers import Rabbit
from services.bench.table import ROWS, SINGLES, render
from services.cli import main

EXPOSITION = """\
# TYPE plantrack_consumer_lag_seconds histogram
plantrack_consumer_lag_seconds_bucket{service="reporting",event_type="a.v1",le="0.01"} 10
plantrack_consumer_lag_seconds_bucket{service="reporting",event_type="a.v1",le="0.1"} 90
plantrack_consumer_lag_seconds_bucket{service="reporting",event_type="a.v1",le="1.0"} 100
plantrack_consumer_lag_seconds_bucket{service="reporting",event_type="a.v1",le="+Inf"} 100
plantrack_consumer_lag_seconds_count{service="reporting",event_type="a.v1"} 100
plantrack_consumer_lag_seconds_sum{service="reporting",event_type="a.v1"} 4.5
# TYPE plantrack_events_consumed_total counter
plantrack_events_consumed_total{service="reporting",event_type="a.v1"} 7
plantrack_events_consumed_total{service="reporting",event_type="b.v1"} 5
"""
LAG = "plantrack_consumer_lag_seconds"


def test_counters_are_summed_over_the_labels_not_asked_for() -> None:
    scraped = parse(EXPOSITION)
    assert scraped.value("plantrack_events_consumed_total", service="reporting") == 12
    assert scraped.value("plantrack_events_consumed_total", event_type="b.v1") == 5
    assert scraped.value("plantrack_events_consumed_total", service="notifications") == 0


def test_quantiles_interpolate_inside_the_bucket_of_the_increase() -> None:
    after = parse(EXPOSITION).buckets(LAG, service="reporting")
    assert quantile({}, after, 0.5) == pytest.approx(0.01 + 0.09 * (50 - 10) / 80)
    assert quantile({}, after, 0.95) == pytest.approx(0.1 + 0.9 * (95 - 90) / 10)
    # only what was observed between the scrapes counts
    before = {0.01: 10.0, 0.1: 10.0, 1.0: 10.0, float("inf"): 10.0}
    assert quantile(before, after, 0.5) == pytest.approx(0.01 + 0.09 * 45 / 80)
    assert quantile(after, after, 0.5) is None


def test_a_quantile_beyond_the_last_bucket_is_that_bucket_bound() -> None:
    after = {0.1: 0.0, 1.0: 1.0, float("inf"): 10.0}
    assert quantile({}, after, 0.99) == 1.0


def test_a_drain_is_timed_from_its_first_step_and_credited_from_there() -> None:
    samples = iter([0, 0, 0, 500, 500, 1000, 1000, 1500])  # a batch of 500 every two samples, one a second
    seen = [-1]

    def count() -> float:
        seen[0] += 1
        return float(next(samples))

    rate = drain_rate(count, 1500, timeout=60, clock=lambda: float(seen[0] + 1), sleep=lambda _: None)
    # the first batch, done before its first sight (second 3), is not credited: 1,000 over seconds 3 to 7
    assert rate == 1000 / 4


def test_a_drain_done_in_one_step_is_timed_from_the_last_still_sample() -> None:
    samples = iter([0, 0, 800])
    seen = [-1]

    def count() -> float:
        seen[0] += 1
        return float(next(samples))

    assert drain_rate(count, 800, timeout=60, clock=lambda: float(seen[0] + 1), sleep=lambda _: None) == 800


def test_free_ports_are_never_handed_out_twice() -> None:
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)


def test_the_table_shows_every_figure_with_its_limit_and_ratio() -> None:
    result = {key: 1.0 for row in ROWS for key in row[1:4]} | {row[1]: 2.0 for row in SINGLES}
    result["api_update_ratio"] = 0.042
    table = render(result | {"cpus": 2})
    for label, *_ in (*ROWS, *SINGLES):
        assert f"| {label} |" in table
    assert "| 0.042 | ≥ 0.5× |" in table
    assert "cpus=2" in table
    with_cpu = render(result | {"steady_cpu_ms": {"assignments": 4.5, "machine": 12.25}})
    assert "| steady, per update | assignments 4.50, machine 12.25 |" in with_cpu


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="CPU accounting reads /proc (Linux only)")
def test_cpu_of_a_process_and_its_children_is_counted_to_its_name() -> None:
    burn = ("import time\nt = time.process_time()\nwhile time.process_time() - t < 0.4: pass\n"
            "print('burnt', flush=True)\ntime.sleep(30)")
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys; subprocess.run([sys.executable, '-c', {burn!r}])"],
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        with cpu.window({"worker": parent.pid}) as used:
            assert parent.stdout is not None and parent.stdout.readline() == "burnt\n"
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(10)
    assert used.used["worker"] >= 0.35  # the child's 0.4 s, counted to its parent's name
    assert used.used["machine"] >= used.used["worker"]
    assert {"bench", "rabbitmq", "postgresql"} <= set(used.used)
    assert used.ms_per(4)["worker"] == pytest.approx(1000 * used.used["worker"] / 4, abs=0.01)
    assert used.cores() is not None and 0 < used.cores() <= (os.cpu_count() or 1) + 0.1


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> ServiceProcess:
    proc = ServiceProcess("bare", {}, tmp_path_factory.mktemp("bare")).start()
    yield proc
    proc.stop()


BODY = b'{"status": "in_progress", "progress": 40, "summary": "ok"}'


def test_the_python_load_counts_answers_of_a_real_server(bare: ServiceProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _: None)  # as on a machine without wrk
    result = closed_loop(bare.url, [Target("/assignments/7/updates", {}, BODY),
                                    Target("/assignments/x/updates", {}, BODY)], seconds=1.0, connections=4)
    assert result.tool == "python"
    assert result.statuses[201] > 10 and result.statuses[422] > 10  # a path the route refuses
    assert result.per_s == pytest.approx(result.statuses[201] / result.seconds)
    assert result.p50_ms is not None and result.p99_ms is not None and result.p50_ms <= result.p99_ms


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (.ci/run installs Debian's)")
def test_wrk_posts_every_target_with_its_headers(bare: ServiceProcess) -> None:
    result = closed_loop(bare.url, [Target("/assignments/7/updates", {"Authorization": "Bearer x"}, BODY)],
                         seconds=1.0, connections=4)
    assert result.tool == "wrk"
    assert result.requests > 10 and result.statuses[201] == result.requests


def test_an_unknown_stage_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown stages"):
        main(["bench", "--stages", "raw,everything"])


@pytest.mark.integration
def test_the_raw_stage_measures_the_broker(rabbit: Rabbit) -> None:
    if tuple(rabbit.ctl) != ("rabbitmqctl",):
        pytest.skip("plantrack bench runs rabbitmqctl on this machine; this run's RabbitMQ is in docker")
    out = subprocess.run([sys.executable, "-m", "services.cli", "bench", "--quick", "--stages", "raw", "--json",
                          "--amqp-url", rabbit.url], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    assert result["raw_publish_per_s"] > 100 and result["raw_consume_per_s"] > 100
