"""The metric catalog's machinery: metrics, selectors and label matchers.

A project declares its catalog in `<root>/monitoring/catalog.py` (`CATALOG`): exporter
metrics as `Metric`s, and its application's own read off the prometheus_client objects the
application exports (`app_metrics`), so the catalog cannot drift from what is exported.
`Catalog.sel()` builds selectors and refuses unknown metrics or labels at render time, so a
typo fails the build instead of drawing an empty panel. Matchers are data (`Matcher`:
label, operator, value), written as PromQL only when the selector is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from generator.errors import DashgenError

COUNTER, GAUGE, HISTOGRAM, SUMMARY = "counter", "gauge", "histogram", "summary"
#: Labels Prometheus attaches to every scraped series.
TARGET_LABELS = ("job", "instance")
#: Series suffixes of the composite types, and the extra label each one carries.
SUFFIXES = {
    HISTOGRAM: {"_bucket": ("le",), "_sum": (), "_count": ()},
    SUMMARY: {"_sum": (), "_count": ()},
}


class CatalogError(DashgenError):
    pass


@dataclass(frozen=True)
class Metric:
    name: str  # exposition name without histogram suffixes (counters keep _total)
    type: str
    labels: tuple[str, ...]
    unit: str
    help: str
    source: str
    buckets: tuple[float, ...] = ()

    def series(self) -> dict[str, tuple[str, ...]]:
        """Every series name this metric exposes, with the labels each one has."""
        base = self.labels + TARGET_LABELS
        if self.type in SUFFIXES:
            return {self.name + sfx: base + extra for sfx, extra in SUFFIXES[self.type].items()}
        return {self.name: base}

    @property
    def le_values(self) -> tuple[str, ...]:
        """The `le` strings the client exposes (Python writes 1.0, not 1; docs/metrics.md §13.10)."""
        return tuple(repr(float(b)) for b in self.buckets) + ("+Inf",)


def metric(name, type_, labels, unit, help_, source, buckets=()) -> Metric:
    """A Metric from plain values (lists welcome): `metric("up", GAUGE, [], "0/1", "...", "Prometheus")`."""
    return Metric(name, type_, tuple(labels), unit, help_, source, tuple(buckets))


def _unit(name: str) -> str:
    """A unit guessed from Prometheus' naming conventions."""
    return "s" if name.endswith("_seconds") else "connections" if name.endswith("_connections") else "count"


def app_metrics(objects: Iterable, source: str, units: dict[str, str] | None = None) -> list[Metric]:
    """Catalog entries read off prometheus_client collectors (type, labels, buckets); the unit
    from `units` (by metric name) or guessed from the name's suffix."""
    out = []
    for obj in objects:
        type_ = obj._type
        name = obj._name + ("_total" if type_ == COUNTER else "")
        buckets = tuple(b for b in getattr(obj, "_upper_bounds", ()) if b != float("inf"))
        unit = (units or {}).get(obj._name) or _unit(obj._name)
        out.append(Metric(name, type_, tuple(obj._labelnames), unit, obj._documentation, source, buckets))
    return out


OPERATORS = ("=", "!=", "=~", "!~")


@dataclass(frozen=True)
class Matcher:
    """One label matcher of a selector, as data: `Matcher("handler", "!~", "/metrics|/health")`."""

    label: str
    op: str
    value: str

    def __post_init__(self):
        if self.op not in OPERATORS:
            raise CatalogError(f"matcher operator {self.op!r} is not one of {' '.join(OPERATORS)}")
        if not isinstance(self.label, str) or not self.label.isidentifier():
            raise CatalogError(f"matcher label {self.label!r} is not a label name")

    def __str__(self) -> str:
        return f"{self.label}{self.op}{_quote(self.value)}"


@dataclass
class Catalog:
    metrics: dict[str, Metric] = field(default_factory=dict)
    #: series name -> (metric, labels)
    _series: dict[str, tuple[Metric, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def of(cls, *metrics: Metric) -> "Catalog":
        """A catalog of `metrics` (a name declared twice is a CatalogError)."""
        cat = cls()
        for m in metrics:
            cat.add(m)
        return cat

    def add(self, metric: Metric) -> None:
        if metric.name in self.metrics:
            raise CatalogError(f"metric {metric.name} is declared twice in the catalog")
        self.metrics[metric.name] = metric
        for series, labels in metric.series().items():
            self._series[series] = (metric, labels)

    def lookup(self, series: str) -> tuple[Metric, tuple[str, ...]] | None:
        return self._series.get(series)

    def metric(self, series: str) -> Metric:
        hit = self.lookup(series)
        if hit is None:
            raise CatalogError(f"unknown metric {series!r}: not in the metric catalog ({CATALOG_FILE})")
        return hit[0]

    def sel(self, series: str, *matchers: Matcher, **equals: str) -> str:
        """A validated vector selector: `sel("http_requests_total", ne("handler", "/metrics"), job="$job")`.

        Keyword arguments are equality matchers; positional ones are `Matcher`s (eq/ne/re_/nre).
        """
        hit = self.lookup(series)
        if hit is None:
            raise CatalogError(f"unknown metric {series!r}: not in the metric catalog ({CATALOG_FILE})")
        _metric, labels = hit
        parts = [eq(k, v) for k, v in equals.items()] + list(matchers)
        for part in parts:
            if not isinstance(part, Matcher):
                raise CatalogError(f"selector of {series!r}: matcher {part!r} is not a Matcher "
                                   "(build it with eq, ne, re_ or nre)")
            if part.label not in labels:
                raise CatalogError(
                    f"metric {series!r} has no label {part.label!r} (it has: {', '.join(labels)})"
                )
        return f"{series}{{{', '.join(map(str, parts))}}}" if parts else series

    def series_names(self) -> list[str]:
        return sorted(self._series)


#: Where a project declares its catalog (named in errors).
CATALOG_FILE = "monitoring/catalog.py"


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def eq(label: str, value: str) -> Matcher:
    return Matcher(label, "=", value)


def ne(label: str, value: str) -> Matcher:
    return Matcher(label, "!=", value)


def re_(label: str, value: str) -> Matcher:
    return Matcher(label, "=~", value)


def nre(label: str, value: str) -> Matcher:
    return Matcher(label, "!~", value)
