"""Reading the services' Prometheus `/metrics`: counters, and quantiles of histogram increases."""

import math
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Scrape:
    """One scrape: every sample by (name, sorted labels)."""

    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels` (0 when none)."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.samples.items() if n == name and wanted <= set(ls))

    def buckets(self, name: str, **labels: str) -> dict[float, float]:
        """Cumulative bucket counts of histogram `name` (summed over the other labels), by upper bound."""
        wanted = set(labels.items())
        found: dict[float, float] = {}
        for (n, ls), v in self.samples.items():
            if n == f"{name}_bucket" and wanted <= set(ls):
                le = float(dict(ls)["le"])
                found[le] = found.get(le, 0.0) + v
        return found


def scrape(base_url: str, token: str = "") -> Scrape:
    """GET `/metrics` and parse it."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.get(f"{base_url}/metrics", headers=headers, timeout=10)
    response.raise_for_status()
    return parse(response.text)


def parse(text: str) -> Scrape:
    """The samples of a Prometheus text exposition."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return Scrape(samples)


def quantile(before: Mapping[float, float], after: Mapping[float, float], q: float) -> float | None:
    """The q-quantile (seconds) of what a histogram observed between two scrapes, interpolated
    linearly inside the bucket as Prometheus' histogram_quantile does; None when nothing was observed."""
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    if not counts or counts[-1] <= 0:
        return None
    rank = q * counts[-1]
    lower, below = 0.0, 0.0
    for bound, count in zip(bounds, counts, strict=True):
        if count >= rank:
            if math.isinf(bound):
                return lower  # beyond the last finite bucket: its bound is all we know
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, count
    return lower
