"""`plantrack broker-setup` and `plantrack dlq …`: the operator's side of the broker."""

import argparse
import asyncio
import logging
import os
import sys
from typing import Any, cast

from faststream.rabbit import RabbitQueue
from sqlalchemy import Engine

from shared.messaging.broker import make_broker
from shared.messaging.setup import DEFAULT_BACKSTOP_LIMIT, ConsumerQueueSpec, setup_broker
from shared.messaging.topology import DLQ_SUFFIX

_UNCONNECTED = "amqp://guest:guest@127.0.0.1:5672/"  # make_broker never connects by itself


def consumer_queues() -> dict[str, list[ConsumerQueueSpec]]:
    """Every consumer queue, by service, as the services' own `register()` subscribes them (on
    throwaway brokers; no handler runs, nothing connects)."""
    from services.notifications import consumers as notifications
    from services.notifications.mailroom import Mailroom
    from services.notifications.settings import NotificationsSettings
    from services.reporting import consumers as reporting
    from services.reporting.settings import ReportingSettings

    no_engine = cast(Engine, None)
    found: dict[str, list[RabbitQueue]] = {
        notifications.SERVICE: notifications.register(
            make_broker(_UNCONNECTED), Mailroom(no_engine, NotificationsSettings.model_construct()),
            lambda: None, lambda: None),
        reporting.SERVICE: reporting.register(
            make_broker(_UNCONNECTED), no_engine, ReportingSettings.model_construct()),
    }
    return {service: [ConsumerQueueSpec(q.name, q.routing()) for q in queues] for service, queues in found.items()}


def dead_letter_queues() -> list[str]:
    """The `.dlq` queue of every consumer queue."""
    return [f"{spec.name}{DLQ_SUFFIX}" for specs in consumer_queues().values() for spec in specs]


def _amqp_url(args: argparse.Namespace, from_env: str) -> str:
    url = args.amqp_url or from_env
    if not url:
        raise SystemExit("give the broker with --amqp-url or PLANTRACK_AMQP_URL (an operator's user)")
    return str(url)


def _known_dlq(name: str) -> str:
    if not name.endswith(DLQ_SUFFIX):
        name += DLQ_SUFFIX
    if name not in dead_letter_queues():
        raise SystemExit(f"{name} is not a plantrack dead-letter queue; see `plantrack dlq list`")
    return name


def cmd_broker_setup(args: argparse.Namespace) -> int:
    """Declare exchanges, queues, bindings and policies; report queues an older version left behind."""
    logging.basicConfig(level=logging.WARNING)
    url = _amqp_url(args, os.environ.get("PLANTRACK_AMQP_URL", ""))
    report = asyncio.run(setup_broker(
        url, consumer_queues(), delivery_limit=args.delivery_limit,
        management_url=args.management_url or os.environ.get("PLANTRACK_RABBITMQ_MANAGEMENT_URL", ""),
    ))
    print(f"broker-setup: vhost {report.vhost!r}: {len(report.queues)} consumer queues with their .dlq, "
          f"{len(report.policies)} policies (delivery-limit {args.delivery_limit}, dead-letter-strategy "
          "at-least-once)")
    if report.legacy:
        print(f"broker-setup: {len(report.legacy)} queues still carry the x-arguments of an older plantrack; "
              "their own arguments win over the policies and the new consumers cannot declare them. "
              "Migrate each (README, 'Operations: upgrading from x-argument queues'):", file=sys.stderr)
        for name in report.legacy:
            print(f"  {name}", file=sys.stderr)
        return 3
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    """List, show, replay or purge dead-lettered messages."""
    from shared.messaging import deadletters

    url = _amqp_url(args, os.environ.get("PLANTRACK_AMQP_URL", ""))
    if args.action == "list":
        for name, count in asyncio.run(deadletters.counts(url, dead_letter_queues())).items():
            print(f"{name}\t{'missing (run plantrack broker-setup)' if count is None else count}")
        return 0
    queue = _known_dlq(args.queue)
    if args.action == "show":
        for letter in asyncio.run(deadletters.show(url, queue, limit=args.limit)):
            print(f"{letter.event_id}\t{letter.event_type}\tattempts={letter.attempts}\t{letter.error}")
        return 0
    if args.action == "replay":
        replayed = asyncio.run(deadletters.replay(url, queue, event_id=args.id))
        print(f"replayed {len(replayed)} message(s) to {queue[: -len(DLQ_SUFFIX)]}")
        return 0 if replayed or args.id is None else 1
    dropped = asyncio.run(deadletters.purge(url, queue, event_id=args.id))
    print(f"purged {dropped} message(s) from {queue}")
    return 0


def add_commands(sub: Any) -> None:
    """Add `broker-setup` and `dlq` to the `plantrack` subcommands."""
    amqp = argparse.ArgumentParser(add_help=False)
    amqp.add_argument("--amqp-url", default="", help="an operator's AMQP URL (default: PLANTRACK_AMQP_URL)")
    setup = sub.add_parser("broker-setup", parents=[amqp],
                           help="declare exchanges, queues and RabbitMQ policies (idempotent; run on every deploy)")
    setup.add_argument("--delivery-limit", type=int,
                       default=int(os.environ.get("PLANTRACK_BROKER_DELIVERY_LIMIT", DEFAULT_BACKSTOP_LIMIT)),
                       help="RabbitMQ's backstop delivery limit (consumers count their own attempts)")
    setup.add_argument("--management-url", default="",
                       help="management API, e.g. http://admin:pw@rabbitmq:15672 (default: "
                            "PLANTRACK_RABBITMQ_MANAGEMENT_URL; without it: rabbitmqctl, or $RABBITMQCTL)")
    setup.set_defaults(func=cmd_broker_setup)
    dlq = sub.add_parser("dlq", help="read, replay or purge dead-lettered messages")
    actions = dlq.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[amqp], help="each .dlq queue and its message count")
    show = actions.add_parser("show", parents=[amqp], help="parked messages (left in the queue)")
    show.add_argument("queue")
    show.add_argument("--limit", type=int, default=20)
    for name, text in (("replay", "move parked messages back to their queue, attempts reset"),
                       ("purge", "drop parked messages")):
        action = actions.add_parser(name, parents=[amqp], help=text)
        action.add_argument("queue")
        action.add_argument("--id", default=None, help="only the message of this event id")
    dlq.set_defaults(func=cmd_dlq)
