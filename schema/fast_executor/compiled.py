"""A plan of plain reads compiled into Python, once per document (schema/fast_executor).

graphql-jit's idea at the size of one selection set: where every field of a plan, and of
the plans under it, is a plain read (a leaf, a list of leaves, ``__typename``, an object
or a list of objects), ``PlanRunner._run_plan``'s loop over the steps, with its branches
per shape, is written out once as straight-line code: per leaf one ``__dict__`` read and a
type check (a ``str`` is its own String and ID, a ``bool`` its own Boolean) or the
scalar's serializer; the response built in one dict display; the objects under it by
their own functions, called directly. No loop, no shape test, no per-step bookkeeping.

Only plans kept across requests are compiled (``Plan.kept``: documents whose fields do
not depend on variables, ``shared.py``), at their first run, so compiling is paid once
per document, not per request, and only up to ``MAX_COMPILED_FIELDS``. The generated
text holds only names made here: the document's response names and the schema's
attribute names reach it as values of its namespace, never as code.

A compiled function gives the same value the interpreted run gives for an object that
goes through the fast path whole. Anything else (an attribute not in ``__dict__``, null
for a non-null field, a value the scalar refuses or an exception as a value, a list
holding something other than objects, a class whose attributes are descriptors) makes
it return MISSING, and the object runs the interpreted way from its first field: plain
reads have no side effects, so reading them again changes nothing but the time taken.
"""

import itertools
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, Undefined
from graphql.type.scalars import serialize_boolean, serialize_id, serialize_string

from schema.fast_executor.counts import FIELD_COUNTS
from schema.fast_executor.plan import Plan, Shape, Step
from schema.fast_executor.values import MISSING, coerce_leaves

# (source, tally) -> the object's completed fields, or MISSING. The tally counts the
# fields ([0]) and objects ([1]) filled, for FIELD_COUNTS: the caller adds them only when
# the whole object was filled, so that a run that falls back is not counted twice.
Compiled = Callable[[Any, list[int]], Any]
SubPlanOf = Callable[[Step], Plan | None]

# Fields of one compiled plan, the plans under it included. Compiling a field costs about
# what parsing and validating it did (500 aliased fields: 87 ms to compile, 62 to parse
# and validate, on a slow day), once per document; a plan larger than any the product's
# clients send is left to the interpreted run rather than paid for.
MAX_COMPILED_FIELDS = 256

_COMPILED_SHAPES = frozenset(
    {Shape.TYPENAME, Shape.LEAF, Shape.LEAF_LIST, Shape.OBJECT, Shape.OBJECT_LIST}
)
# Serializers that return a value of exactly this type as it is.
_SELF_SERIALIZED: dict[Callable[[Any], Any], type] = {
    serialize_string: str,
    serialize_id: str,
    serialize_boolean: bool,
}


def readable_class(plan: Plan, cls: type) -> bool:
    """Whether an instance of ``cls`` can be read by the compiled function: it has a
    ``__dict__`` that holds the plan's attributes (``Plan.reads_instance_dict``), and it is
    neither an exception nor an awaitable, which graphql-core reports or awaits."""
    return (
        cls.__dictoffset__ != 0
        and not issubclass(cls, BaseException)
        and not hasattr(cls, "__await__")
        and plan.reads_instance_dict(cls)
    )


def _serialized(serialize: Callable[[Any], Any], value: Any) -> Any:
    """The scalar's value for ``value``, or MISSING where the interpreted run would hand
    the field to graphql-core."""
    if isinstance(value, Exception):
        return MISSING
    try:
        coerced = serialize(value)
    except Exception:  # noqa: BLE001  (graphql-core says why, when it runs the field)
        return MISSING
    return MISSING if coerced is None or coerced is Undefined else coerced


class _Module:
    """The text of the functions being generated, and the values their names stand for."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "MISSING": MISSING,
            "Undefined": Undefined,
            "serialized": _serialized,
            "coerce_leaves": coerce_leaves,
        }
        self.functions: list[tuple[Plan, str]] = []
        self.fields = 0
        self._numbers = itertools.count()

    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._numbers)}"

    def name(self, prefix: str, value: Any) -> str:
        """A name in the generated text for ``value``."""
        name = self.fresh(prefix)
        self.namespace[name] = value
        return name


def compile_plan(
    plan: Plan, parent_type: GraphQLObjectType, sub_plan_of: SubPlanOf
) -> Compiled | None:
    """The plan as one function (the plans under it too, each also set as its own
    ``compiled``); None when a field of it or under it is not a plain read."""
    module = _Module()
    entry = _function(module, plan, parent_type, sub_plan_of)
    if entry is None:
        return None
    code = compile("\n".join(module.lines), f"<plan of {parent_type.name}>", "exec")
    exec(code, module.namespace)  # noqa: S102  (our own text; the document's names are values)
    for sub_plan, name in module.functions:
        sub_plan.compiled = module.namespace[name]
        sub_plan.compile_tried = True
    FIELD_COUNTS.compiled_plans += len(module.functions)
    compiled: Compiled = module.namespace[entry]
    return compiled


def _function(
    module: _Module, plan: Plan, object_type: GraphQLObjectType, sub_plan_of: SubPlanOf
) -> str | None:
    module.fields += len(plan.steps)
    if module.fields > MAX_COMPILED_FIELDS or any(
        step.shape not in _COMPILED_SHAPES for step in plan.steps
    ):
        return None
    known: dict[type, bool] = {}

    def learn(cls: type) -> bool:
        known[cls] = readable_class(plan, cls)
        return known[cls]

    function = module.fresh("plan")
    known_name = module.name("known", known)
    learn_name = module.name("learn", learn)
    body: list[str] = []
    entries: list[str] = []
    for index, step in enumerate(plan.steps):
        key = module.name("key", step.response_name)
        if step.shape is Shape.TYPENAME:
            entries.append(f"{key}: {module.name('typename', object_type.name)}")
            continue
        lines = _step(module, step, f"r{index}", sub_plan_of)
        if lines is None:
            return None
        body += lines
        entries.append(f"{key}: r{index}")
    module.lines += [
        f"def {function}(source, tally):",
        f"    ok = {known_name}.get(type(source))",
        "    if ok is None:",
        f"        ok = {learn_name}(type(source))",
        "    if not ok:",
        "        return MISSING",
        "    d = source.__dict__",
        *body,
        f"    tally[0] += {len(plan.steps)}",
        "    tally[1] += 1",
        f"    return {{{', '.join(entries)}}}",
        "",
    ]
    module.functions.append((plan, function))
    return function


def _step(module: _Module, step: Step, result: str, sub_plan_of: SubPlanOf) -> list[str] | None:
    """The lines that set ``result`` to the step's value or return MISSING."""
    value = _value(module, step, result, sub_plan_of)
    if value is None:
        return None
    attribute = module.name("attribute", step.attribute)
    lines = [f"    v = d.get({attribute}, MISSING)"]
    # A null is the field's value only where the attribute holds it and the type allows it.
    if step.non_null:
        return [*lines, "    if v is None or v is MISSING:", "        return MISSING"] + [
            f"    {line}" for line in value
        ]
    return [
        *lines,
        "    if v is MISSING:",
        "        return MISSING",
        "    if v is None:",
        f"        {result} = None",
        "    else:",
        *(f"        {line}" for line in value),
    ]


def _value(  # noqa: PLR0911  (one return per shape)
    module: _Module, step: Step, result: str, sub_plan_of: SubPlanOf
) -> list[str] | None:
    """Lines, for a value that is not null, setting ``result`` or returning MISSING."""
    missing = [f"if {result} is MISSING:", "    return MISSING"]
    if step.shape is Shape.LEAF:
        assert step.serialize is not None
        serialize = module.name("serialize", step.serialize)
        own_type = _SELF_SERIALIZED.get(step.serialize)
        if own_type is None:  # serialized(), inlined
            return [
                "if isinstance(v, Exception):",
                "    return MISSING",
                "try:",
                f"    {result} = {serialize}(v)",
                "except Exception:",
                "    return MISSING",
                f"if {result} is None or {result} is Undefined:",
                "    return MISSING",
            ]
        general = f"{result} = serialized({serialize}, v)"
        type_name = module.name("type", own_type)
        return [
            f"if type(v) is {type_name}:",
            f"    {result} = v",
            "else:",
            f"    {general}",
            *(f"    {line}" for line in missing),
        ]
    if step.shape is Shape.LEAF_LIST:
        assert step.serialize is not None
        serialize = module.name("serialize", step.serialize)
        return [
            "try:",
            f"    {result} = coerce_leaves({serialize}, v)",
            "except Exception:",
            "    return MISSING",
            f"if {result} is None:",
            "    return MISSING",
        ]
    sub_plan = sub_plan_of(step)
    if sub_plan is None:
        return None
    function = _function(module, sub_plan, step.named_type, sub_plan_of)
    if function is None:
        return None
    if step.shape is Shape.OBJECT:
        return [f"{result} = {function}(v, tally)", *missing]
    return [
        "if type(v) is not list:",
        "    return MISSING",
        f"{result} = [{function}(item, tally) for item in v]",
        f"if MISSING in {result}:",
        "    return MISSING",
    ]
