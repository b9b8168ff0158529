"""`plantrack broker-setup`: the exchanges, queues and bindings every consumer needs, and the RabbitMQ
policies that set their delivery limit and dead-lettering (x-arguments could never change)."""

import json
import logging
import os
import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import aio_pika
import httpx
from aiormq.exceptions import ChannelPreconditionFailed

from shared.messaging.topology import (
    DEAD_LETTER_EXCHANGE_NAME,
    DLQ_SUFFIX,
    EVENTS_EXCHANGE_NAME,
    retry_exchange_name,
)

log = logging.getLogger("plantrack.broker_setup")

QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}
POLICY_PREFIX = "plantrack-"
POLICY_PRIORITY = 10
DEFAULT_BACKSTOP_LIMIT = 1000


@dataclass(frozen=True)
class ConsumerQueueSpec:
    """A consumer queue to set up: its name and the event type it is bound to."""

    name: str
    routing_key: str


@dataclass
class SetupReport:
    """What broker-setup did, and the queues it could not bring to the current shape."""

    vhost: str
    queues: list[str] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    legacy: dict[str, str] = field(default_factory=dict)  # queue -> RabbitMQ's refusal


def vhost_of(amqp_url: str) -> str:
    """The virtual host of an AMQP URL (`/` when the path names none)."""
    path = urlsplit(amqp_url).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def queue_policy(vhost: str, queue: str, *, delivery_limit: int) -> dict[str, Any]:
    """The policy of one consumer queue: a backstop delivery limit (the consumer counts attempts
    itself), dead-lettering to `<queue>.dlq` through plantrack.dlx, at-least-once (which needs
    reject-publish overflow: RabbitMQ keeps the message until the dead-letter queue confirms it)."""
    return {
        "vhost": vhost,
        "name": f"{POLICY_PREFIX}{queue}",
        "pattern": f"^{re.escape(queue)}$",
        "apply-to": "queues",
        "priority": POLICY_PRIORITY,
        "definition": {
            "delivery-limit": delivery_limit,
            "dead-letter-exchange": DEAD_LETTER_EXCHANGE_NAME,
            "dead-letter-routing-key": queue,
            "dead-letter-strategy": "at-least-once",
            "overflow": "reject-publish",
        },
    }


def apply_policies(policies: Sequence[Mapping[str, Any]], *, management_url: str = "",
                   rabbitmqctl: str = "") -> None:
    """Set the policies through the management HTTP API when `management_url` is given, else with
    one `rabbitmqctl import_definitions` (each rabbitmqctl call boots an Erlang VM)."""
    if management_url:
        _apply_over_http(policies, management_url)
    else:
        _apply_with_rabbitmqctl(policies, rabbitmqctl or os.environ.get("RABBITMQCTL", "rabbitmqctl"))


def _apply_over_http(policies: Sequence[Mapping[str, Any]], management_url: str) -> None:
    parts = urlsplit(management_url)
    base = f"{parts.scheme}://{parts.hostname}{':' + str(parts.port) if parts.port else ''}{parts.path.rstrip('/')}"
    auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    with httpx.Client(base_url=base, auth=auth, timeout=10) as client:
        for policy in policies:
            body = {k: policy[k] for k in ("pattern", "apply-to", "priority", "definition")}
            url = f"/api/policies/{quote(policy['vhost'], safe='')}/{quote(policy['name'], safe='')}"
            response = client.put(url, json=body)
            if response.status_code not in (200, 201, 204):
                raise RuntimeError(f"management API refused policy {policy['name']}: "
                                   f"{response.status_code} {response.text[:300]}")


def _apply_with_rabbitmqctl(policies: Sequence[Mapping[str, Any]], command: str) -> None:
    definitions = json.dumps({"policies": list(policies)})
    # definitions on stdin: works as well when rabbitmqctl runs in a container (`docker exec -i …`)
    done = subprocess.run([*shlex.split(command), "-q", "import_definitions"], input=definitions,
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"rabbitmqctl import_definitions failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[:500]}")


async def declare_topology(amqp_url: str, queues: Mapping[str, Iterable[ConsumerQueueSpec]]) -> SetupReport:
    """Declare plantrack.events, plantrack.dlx, each service's retry exchange, each consumer queue
    (quorum, nothing else), its `.dlq`, and their bindings. A queue an older plantrack declared with
    x-arguments is still bound (so it loses no event) and reported."""
    report = SetupReport(vhost=vhost_of(amqp_url))
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        events = await channel.declare_exchange(EVENTS_EXCHANGE_NAME, aio_pika.ExchangeType.TOPIC, durable=True)
        dlx = await channel.declare_exchange(DEAD_LETTER_EXCHANGE_NAME, aio_pika.ExchangeType.DIRECT, durable=True)
        for service, specs in queues.items():
            retry = await channel.declare_exchange(retry_exchange_name(service), aio_pika.ExchangeType.DIRECT,
                                                   durable=True)
            for spec in specs:
                try:
                    queue = await channel.declare_queue(spec.name, durable=True, arguments=QUORUM)
                except ChannelPreconditionFailed as exc:
                    report.legacy[spec.name] = str(exc)
                    channel = await connection.channel()  # the refusal closed the channel
                    events = await channel.get_exchange(EVENTS_EXCHANGE_NAME)
                    dlx = await channel.get_exchange(DEAD_LETTER_EXCHANGE_NAME)
                    retry = await channel.get_exchange(retry_exchange_name(service))
                    queue = await channel.declare_queue(spec.name, passive=True)
                await queue.bind(events, routing_key=spec.routing_key)
                await queue.bind(retry, routing_key=spec.name)
                dlq = await channel.declare_queue(f"{spec.name}{DLQ_SUFFIX}", durable=True, arguments=QUORUM)
                await dlq.bind(dlx, routing_key=spec.name)
                report.queues.append(spec.name)
    finally:
        await connection.close()
    return report


async def setup_broker(amqp_url: str, queues: Mapping[str, Sequence[ConsumerQueueSpec]], *,
                       delivery_limit: int = DEFAULT_BACKSTOP_LIMIT, management_url: str = "",
                       rabbitmqctl: str = "") -> SetupReport:
    """Policies first (so no queue exists a moment without them), then exchanges, queues, bindings.
    Idempotent: run it on every deploy; a changed delivery limit takes effect at once."""
    vhost = vhost_of(amqp_url)
    policies = [queue_policy(vhost, spec.name, delivery_limit=delivery_limit)
                for specs in queues.values() for spec in specs]
    apply_policies(policies, management_url=management_url, rabbitmqctl=rabbitmqctl)
    report = await declare_topology(amqp_url, queues)
    report.policies = [p["name"] for p in policies]
    return report
