"""The `plantrack` command: run the services locally, load demo data, relay, docs."""

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
APPS = {
    "notifications": "services.notifications.app:create_app",
    "reporting": "services.reporting.app:create_app",
    "assignments": "services.assignments.app:create_app",
}


def _wait_ready(name: str, url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with code {proc.returncode}; see its log above")
        try:
            if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{name} did not become ready at {url} within {timeout}s")


def local_admin_token(env: dict[str, str]) -> tuple[str, Path, bool]:
    """The admin token kept with the local data (`<data dir>/admin-token`, mode 0600), made on
    first use; returns it, its file, and whether it was just made."""
    data_dir = Path(env.get("PLANTRACK_ASSIGNMENTS_DATA_DIR") or env.get("PLANTRACK_DATA_DIR") or "data")
    path = data_dir / "admin-token"
    try:
        return path.read_text(encoding="ascii").strip(), path, False
    except FileNotFoundError:
        pass
    data_dir.mkdir(parents=True, exist_ok=True)
    token = "pt_admin_" + secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never readable by others
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(token + "\n")
    return token, path, True


def cmd_run(args: argparse.Namespace) -> int:
    """Start the three services (consumers first), optionally load the demo, stop on Ctrl-C."""
    env = dict(os.environ)
    if not env.get("PLANTRACK_ADMIN_TOKEN"):
        token, path, made = local_admin_token(env)
        env["PLANTRACK_ADMIN_TOKEN"] = token
        print(f"PLANTRACK_ADMIN_TOKEN not set; the admin token is in {path} "
              f"({'made now' if made else 'kept from an earlier run'}). "
              f"Use it with: export PLANTRACK_ADMIN_TOKEN=$(cat {path})")
    env.setdefault("PYTHONPATH", str(ROOT))
    ports = {"assignments": args.port, "notifications": args.port + 1, "reporting": args.port + 2}
    # the three processes honour one browser session: one secret for this run unless one is given
    env.setdefault("PLANTRACK_SESSION_SECRET", secrets.token_hex(24))
    env.setdefault("PLANTRACK_PUBLIC_URL", f"http://127.0.0.1:{ports['assignments']}")
    env.setdefault("PLANTRACK_ASSIGNMENTS_REPORTING_PUBLIC_URL", f"http://127.0.0.1:{ports['reporting']}")
    env.setdefault("PLANTRACK_REPORTING_ASSIGNMENTS_PUBLIC_URL", env["PLANTRACK_PUBLIC_URL"])
    procs: dict[str, subprocess.Popen[bytes]] = {}

    def stop_all() -> None:
        for proc in reversed(list(procs.values())):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in procs.items():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop in time; killing it", file=sys.stderr)
                proc.kill()

    def on_signal(*_: object) -> None:
        raise KeyboardInterrupt

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        for name, app in APPS.items():
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "--factory", app, "--host", args.host,
                 "--port", str(ports[name]), "--timeout-graceful-shutdown", "30"],
                env=env,
            )
            _wait_ready(name, f"http://127.0.0.1:{ports[name]}", procs[name])
        base = f"http://127.0.0.1:{ports['assignments']}"
        if args.demo:
            from services.assignments.demo.loader import load_demo

            result = load_demo(base, env["PLANTRACK_ADMIN_TOKEN"])
            print(f"Demo loaded: plan {result.plan_id} (41-KH/ĐUK), {len(result.units)} units; {result.officer_line()}")
        print("plantrack is running:")
        for name, port in ports.items():
            print(f"  {name:<14} http://{args.host}:{port}  (API docs: /docs)")
        print(f"  portal         {env['PLANTRACK_PUBLIC_URL']}/signin  (the sign-in link arrives by email)")
        print("Press Ctrl-C to stop.")
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        failed = [n for n, p in procs.items() if p.poll() is not None]
        print(f"service exited unexpectedly: {', '.join(failed)}; stopping the others", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        stop_all()


def cmd_demo(args: argparse.Namespace) -> int:
    """Load the demo data into a running assignments service."""
    from services.assignments.demo.loader import load_demo

    token = args.token or os.environ.get("PLANTRACK_ADMIN_TOKEN", "")
    if not token:
        raise SystemExit("give the admin token with --token or PLANTRACK_ADMIN_TOKEN")
    deadline = time.monotonic() + args.wait
    while True:
        try:
            if httpx.get(f"{args.url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"assignments service at {args.url} not ready after {args.wait}s")
        time.sleep(1)
    result = load_demo(args.url, token)
    print(f"Demo plan id {result.plan_id}; {result.assignments} new assignments; {result.officer_line()}")
    return 0


def cmd_relay(_: argparse.Namespace) -> int:
    """Run a standalone outbox relay."""
    from services.assignments.relay import main

    main()
    return 0


def cmd_mail_sender(_: argparse.Namespace) -> int:
    """Run a standalone mail sender."""
    from services.notifications.sender import main

    main()
    return 0


def cmd_asyncapi(args: argparse.Namespace) -> int:
    """Print (or write) the AsyncAPI document of all events."""
    from services.asyncapi import render

    text = render()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def cmd_import_plan(args: argparse.Namespace) -> int:
    """Parse a plan document and print what was read (JSON with --json)."""
    from services.assignments.plan_documents import UnreadableDocument, document_text
    from services.assignments.plan_import import parse_plan

    try:
        text = document_text(Path(args.file).read_bytes(), filename=args.file)
    except (OSError, UnreadableDocument) as exc:
        raise SystemExit(f"cannot read {args.file}: {exc}") from exc
    draft = parse_plan(text)
    if args.json:
        sys.stdout.write(draft.model_dump_json(indent=2) + "\n")
        return 0
    print(f"{draft.number or '?'}  {draft.kind or '?'}  {draft.place or '?'}, {draft.issued_on or '?'}")
    print(f"  {draft.title or '(no title found)'}")
    for task in draft.tasks:
        who = "; ".join(r.text for r in task.responsible)
        print(f"  {task.code:<8} {task.title[:70]}{'  [' + who + ']' if who else ''}")
    for warning in draft.warnings:
        print(f"  warning: {warning}")
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    """Issue an API token for an official straight in the assignments database (ops/bootstrap)."""
    from sqlmodel import select

    from services.assignments import directory
    from services.assignments.app import MIGRATIONS
    from services.assignments.auth import new_token
    from services.assignments.models import Official
    from services.assignments.settings import AssignmentsSettings
    from shared.db import make_engine, migrate, session_scope

    settings = AssignmentsSettings()
    migrate(settings.db_url(), MIGRATIONS)
    engine = make_engine(settings.db_url())
    token = new_token()
    try:
        with session_scope(engine) as session:
            official = session.exec(select(Official).where(Official.email == args.email.lower())).first()
            if official is None or official.id is None:
                raise SystemExit(f"no official with email {args.email}")
            directory.issue_token(session, actor=None, official_id=official.id, token=token, name=args.name)
    finally:
        engine.dispose()
    print(token)
    return 0


def cmd_rotate_unsubscribe_key(_: argparse.Namespace) -> int:
    """Replace the stored key that signs unsubscribe links: every link already sent stops working."""
    from services.notifications.app import MIGRATIONS
    from services.notifications.keys import rotate_unsubscribe_key
    from services.notifications.settings import NotificationsSettings
    from shared.db import make_engine, migrate

    settings = NotificationsSettings()
    if settings.unsubscribe_secret:
        raise SystemExit("PLANTRACK_NOTIFICATIONS_UNSUBSCRIBE_SECRET is set: change that value instead")
    migrate(settings.db_url(), MIGRATIONS)
    engine = make_engine(settings.db_url())
    try:
        rotate_unsubscribe_key(engine)
    finally:
        engine.dispose()
    print("unsubscribe key rotated; running notifications services pick it up within a minute")
    return 0


def cmd_reporting_rebuild(args: argparse.Namespace) -> int:
    """Rebuild the reporting read model from its event archive (the service may keep running)."""
    from services.reporting.app import MIGRATIONS
    from services.reporting.rebuild import RebuildRefused, open_live, rebuild
    from services.reporting.settings import ReportingSettings
    from shared.db import migrate

    url = ReportingSettings().db_url()
    migrate(url, MIGRATIONS)
    engine = open_live(url)
    try:
        result = rebuild(engine, allow_partial=args.allow_partial)
    except RebuildRefused as exc:
        raise SystemExit(f"not rebuilt: {exc}") from None
    finally:
        engine.dispose()
    rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
    print(f"reporting read model rebuilt from {result.events} archived events "
          f"({result.late_events} arrived during the rebuild): {rows}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure the machine's limits and plantrack's stages side by side; print JSON or a table."""
    import dataclasses
    import json
    import logging

    from services.bench.run import FULL, QUICK, STAGES, run
    from services.bench.table import render

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("plantrack.bench").setLevel(logging.INFO)
    stages = tuple(args.stages.split(",")) if args.stages else STAGES
    unknown = set(stages) - set(STAGES)
    if unknown:
        raise SystemExit(f"unknown stages {sorted(unknown)}; choose from {', '.join(STAGES)}")
    sizes = QUICK if args.quick else FULL
    if args.rate:
        sizes = dataclasses.replace(sizes, rate=args.rate)
    result = run(sizes, amqp_url=args.amqp_url, pg_url=args.pg_url, workers=args.workers, stages=stages)
    print(json.dumps(result, ensure_ascii=False) if args.json else render(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `plantrack`."""
    parser = argparse.ArgumentParser(prog="plantrack", description="Track how a plan is carried out.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the three services as local processes")
    run.add_argument("--demo", action="store_true", help="load the seed plan 41-KH/ĐUK and demo units")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8001, help="assignments port; notifications +1, reporting +2")
    run.set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="load demo data into a running assignments service")
    demo.add_argument("--url", default="http://127.0.0.1:8001")
    demo.add_argument("--token", default="")
    demo.add_argument("--wait", type=float, default=120, help="seconds to wait for the service")
    demo.set_defaults(func=cmd_demo)
    relay = sub.add_parser("relay", help="run a standalone outbox relay")
    relay.set_defaults(func=cmd_relay)
    sender = sub.add_parser("mail-sender", help="run a standalone mail sender (notifications' outgoing emails)")
    sender.set_defaults(func=cmd_mail_sender)
    imp = sub.add_parser("import-plan", help="read a plan document (.txt, .docx, PDF) into tasks and responsible units")
    imp.add_argument("file")
    imp.add_argument("--json", action="store_true", help="print the full draft as JSON")
    imp.set_defaults(func=cmd_import_plan)
    tok = sub.add_parser("create-token", help="issue an API token for an official (prints it once)")
    tok.add_argument("--email", required=True, help="the official's email")
    tok.add_argument("--name", default="cli", help="a label for the token")
    tok.set_defaults(func=cmd_create_token)
    rotate = sub.add_parser("rotate-unsubscribe-key",
                            help="revoke every unsubscribe link sent so far (notifications database)")
    rotate.set_defaults(func=cmd_rotate_unsubscribe_key)
    rebuild = sub.add_parser("reporting-rebuild",
                             help="rebuild the reporting read model from its event archive, while it serves")
    rebuild.add_argument("--allow-partial", action="store_true",
                         help="rebuild even though events applied before the archive existed would be lost")
    rebuild.set_defaults(func=cmd_reporting_rebuild)
    bench = sub.add_parser("bench", help="measure RabbitMQ, a bare endpoint and each plantrack stage side by side")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--quick", action="store_true", help="smaller sizes: about a minute")
    bench.add_argument("--stages", default="", help="a comma-separated subset of: raw, bare, stack (API, relay, "
                       "consumers), steady (lag; includes stack), read-model")
    bench.add_argument("--rate", type=float, default=0, help="updates a second of the steady stage (default 200)")
    bench.add_argument("--workers", type=int, default=1, help="uvicorn workers for the API and the bare endpoint")
    bench.add_argument("--amqp-url", default=os.environ.get("PLANTRACK_BENCH_AMQP_URL",
                                                            "amqp://guest:guest@127.0.0.1:5672/"),
                       help="RabbitMQ (a user that may create vhosts; rabbitmqctl on PATH)")
    bench.add_argument("--pg-url", default=os.environ.get("PLANTRACK_BENCH_PG_URL",
                                                          "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
                       help="PostgreSQL (a user that may create databases)")
    bench.set_defaults(func=cmd_bench)
    asyncapi = sub.add_parser("asyncapi", help="print the AsyncAPI document of all events")
    asyncapi.add_argument("--output", "-o", default="")
    asyncapi.set_defaults(func=cmd_asyncapi)
    from services.broker_cli import add_commands as add_broker_commands

    add_broker_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
