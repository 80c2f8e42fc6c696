"""The PromQL of docs/grafana-dashboard.json, evaluated over scrapes kept in memory.

Only what the dashboard's queries use: selectors with ``=``/``!=`` matchers, range
selectors under ``rate``, ``sum``/``min``/``max by (...)``, ``topk``,
``histogram_quantile``, and ``/`` or ``*`` between a vector and a vector or a number.
Each behaves as in Prometheus, except that ``rate`` is the increase between the
first and last samples of the window over the time between them (Prometheus also
extrapolates to the window's edges, which changes nothing at a steady rate), and
that every range is the window the caller gives (the dashboard's are all Grafana's
``$__rate_interval``).
"""

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Labels = frozenset[tuple[str, str]]
# An instant vector: labels (with __name__ for a selected series) -> value.
Vector = dict[Labels, float]

_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?)(?![\w])|(?P<duration>\[\$?\w+\])|(?P<name>[A-Za-z_:][\w:]*)"
    r"|(?P<string>\"[^\"]*\")|(?P<op>!=|[-+*/(){},=]))"
)
_AGGREGATIONS: dict[str, Callable[[list[float]], float]] = {
    "sum": lambda values: float(sum(values)),
    "min": min,
    "max": max,
}
# Prometheus forgets a series not scraped for 5 minutes; scrapes here come every second.
LOOKBACK_SECONDS = 5.0


class Scrapes:
    """Every scrape of every target, as series of (seconds, value)."""

    def __init__(self) -> None:
        self.series: dict[Labels, tuple[list[float], list[float]]] = {}

    def add(self, at: float, samples: Sequence[tuple[str, dict[str, str], float]]) -> None:
        for name, labels, value in samples:
            key = frozenset({**labels, "__name__": name}.items())
            times, values = self.series.setdefault(key, ([], []))
            times.append(at)
            values.append(value)


@dataclass(frozen=True)
class _Context:
    scrapes: Scrapes
    at: float
    window: float  # what $__rate_interval stands for, seconds


Node = Callable[[_Context], Vector | float]
# The series a selector picks, each with its (times, values).
Selection = Callable[[_Context], list[tuple[Labels, tuple[list[float], list[float]]]]]


def compile_expr(text: str) -> Callable[[Scrapes, float, float], Vector]:
    """``expr`` as a function of (scrapes, time, rate window) to an instant vector."""
    tokens = _tokens(text)
    parser = _Parser(tokens)
    node = parser.expression()
    if parser.position != len(tokens):
        raise ValueError(f"unsupported PromQL after {parser.position} tokens: {text}")

    def evaluate(scrapes: Scrapes, at: float, window: float) -> Vector:
        result = node(_Context(scrapes, at, window))
        if isinstance(result, float):
            return {frozenset(): result}
        return result

    return evaluate


def references(text: str) -> tuple[set[str], set[str]]:
    """The series names a query selects and the labels it groups or matches by."""
    parser = _Parser(_tokens(text))
    parser.expression()
    return parser.selected, parser.labels_used


def _tokens(text: str) -> list[tuple[str, str]]:
    found = [(k, v) for m in _TOKEN.finditer(text) for k, v in m.groupdict().items() if v]
    if "".join(value for _, value in found).replace(" ", "") != text.replace(" ", ""):
        raise ValueError(f"unsupported PromQL: {text}")
    return found


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.selected: set[str] = set()
        self.labels_used: set[str] = set()

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> str:
        kind, token = self.peek()
        if kind == "end" or (value is not None and token != value):
            raise ValueError(f"expected {value or 'a token'}, found {token or 'the end'}")
        self.position += 1
        return token

    def expression(self) -> Node:
        left = self.operand()
        while self.peek()[1] in ("/", "*"):
            operator = self.take()
            left = _binary(operator, left, self.operand())
        return left

    def operand(self) -> Node:
        kind, token = self.peek()
        if kind == "number":
            self.take()
            number = float(token)
            return lambda _: number
        if token == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        name = self.take()
        if name in _AGGREGATIONS or name == "topk":
            return self.aggregation(name)
        if name == "rate":
            self.take("(")
            selector = self.selector(self.take())
            window = self.take()
            self.take(")")
            if not window.startswith("["):
                raise ValueError("rate needs a range")
            return _rate(selector)
        if name == "histogram_quantile":
            self.take("(")
            quantile = float(self.take())
            self.take(",")
            buckets = self.expression()
            self.take(")")
            return _histogram_quantile(quantile, buckets)
        return _instant(self.selector(name))

    def aggregation(self, name: str) -> Node:
        by: tuple[str, ...] | None = None
        if self.peek()[1] == "by":
            self.take("by")
            by = self.labels()
        self.take("(")
        count = 0
        if name == "topk":
            count = int(self.take())
            self.take(",")
        inner = self.expression()
        self.take(")")
        if self.peek()[1] == "by":
            self.take("by")
            by = self.labels()
        if name == "topk":
            return _topk(count, inner)
        return _aggregate(_AGGREGATIONS[name], by or (), inner)

    def labels(self) -> tuple[str, ...]:
        self.take("(")
        names = [self.take()]
        while self.peek()[1] == ",":
            self.take(",")
            names.append(self.take())
        self.take(")")
        self.labels_used.update(names)
        return tuple(names)

    def selector(self, name: str) -> "Selection":
        self.selected.add(name)
        matchers: list[tuple[str, str, str]] = []
        if self.peek()[1] == "{":
            self.take("{")
            while self.peek()[1] != "}":
                label, operator, value = self.take(), self.take(), self.take().strip('"')
                if operator not in ("=", "!="):
                    raise ValueError(f"unsupported matcher {operator}")
                matchers.append((label, operator, value))
                self.labels_used.add(label)
                if self.peek()[1] == ",":
                    self.take(",")
            self.take("}")

        def matches(labels: Labels) -> bool:
            found = dict(labels)
            if found.get("__name__") != name:
                return False
            return all(
                (found.get(label, "") == value) == (op == "=") for label, op, value in matchers
            )

        return lambda context: [
            (labels, data) for labels, data in context.scrapes.series.items() if matches(labels)
        ]


def _instant(
    selector: "Selection",
) -> Node:
    """The latest sample of each series, unless older than the lookback (stale)."""

    def evaluate(context: _Context) -> Vector:
        result: Vector = {}
        for labels, (times, values) in selector(context):
            index = bisect_right(times, context.at)
            if index and context.at - times[index - 1] <= LOOKBACK_SECONDS:
                result[labels] = values[index - 1]
        return result

    return evaluate


def _binary(operator: str, left: Node, right: Node) -> Node:
    def apply(a: float, b: float) -> float:
        if operator == "*":
            return a * b
        return a / b if b else math.nan

    def evaluate(context: _Context) -> Vector | float:
        a, b = left(context), right(context)
        if isinstance(a, float) and isinstance(b, float):
            return apply(a, b)
        if isinstance(b, float):
            return {labels: apply(value, b) for labels, value in a.items()}  # type: ignore[union-attr]
        if isinstance(a, float):
            return {labels: apply(a, value) for labels, value in b.items()}
        # One-to-one matching on every label (the dashboard divides label-less sums).
        return {labels: apply(a[labels], b[labels]) for labels in a.keys() & b.keys()}

    return evaluate


def _rate(
    selector: "Selection",
) -> Node:
    def evaluate(context: _Context) -> Vector:
        result: Vector = {}
        for labels, (times, values) in selector(context):
            first = bisect_left(times, context.at - context.window + 1e-9)
            last = bisect_right(times, context.at)
            if last - first < 2:
                continue
            increase = 0.0
            for before, after in zip(
                values[first : last - 1], values[first + 1 : last], strict=True
            ):
                increase += after - before if after >= before else after  # a counter reset
            result[frozenset(kv for kv in labels if kv[0] != "__name__")] = increase / (
                times[last - 1] - times[first]
            )
        return result

    return evaluate


def _vector(node: Node, context: _Context) -> Vector:
    result = node(context)
    if isinstance(result, float):
        raise ValueError("expected a vector")
    return result


def _aggregate(how: Callable[[list[float]], float], by: tuple[str, ...], inner: Node) -> Node:
    def evaluate(context: _Context) -> Vector:
        groups: dict[Labels, list[float]] = {}
        for labels, value in _vector(inner, context).items():
            key = frozenset((k, v) for k, v in labels if k in by)
            groups.setdefault(key, []).append(value)
        return {key: how(values) for key, values in groups.items()}

    return evaluate


def _topk(count: int, inner: Node) -> Node:
    def evaluate(context: _Context) -> Vector:
        vector = _vector(inner, context)
        ranked = sorted((v for v in vector.items() if not math.isnan(v[1])), key=lambda kv: -kv[1])
        return dict(ranked[:count])

    return evaluate


def _histogram_quantile(quantile: float, inner: Node) -> Node:
    """Prometheus's interpolation inside the bucket where the rank falls."""

    def evaluate(context: _Context) -> Vector:
        histograms: dict[Labels, list[tuple[float, float]]] = {}
        for labels, value in _vector(inner, context).items():
            found = dict(labels)
            bound = float(found.pop("le"))
            histograms.setdefault(frozenset(found.items()), []).append((bound, value))
        result: Vector = {}
        for labels, buckets in histograms.items():
            buckets.sort()
            total = buckets[-1][1]
            if not buckets or buckets[-1][0] != math.inf or total <= 0:
                result[labels] = math.nan
                continue
            rank = quantile * total
            lower_bound, lower_count = 0.0, 0.0
            for bound, count in buckets:
                if count >= rank:
                    if bound == math.inf:
                        result[labels] = buckets[-2][0] if len(buckets) > 1 else math.nan
                    else:
                        share = (
                            (rank - lower_count) / (count - lower_count)
                            if count > lower_count
                            else 0
                        )
                        result[labels] = lower_bound + (bound - lower_bound) * share
                    break
                lower_bound, lower_count = bound, count
        return result

    return evaluate
