"""graphql-core's executor without its per-field cost where a field only reads an attribute
or calls a resolver that needs nothing of Strawberry's machinery.

graphql-core runs every field the same way: a ``Path``, a ``GraphQLResolveInfo``, the
resolver (for Strawberry, a wrapper that builds an ``Info``, converts arguments and runs
field extensions around the function), then ``complete_value`` walking the type's
wrappers. :class:`FastExecutor` plans each selection set once per document (once per
request where variables may change its fields: ``shared.py``) and sorts its fields into:

- plain reads: a dataclass field Strawberry resolves with its default getter (no
  resolver, no permission classes, no extensions). Per object, the attribute is read
  from the instance's ``__dict__`` and serialized with the type's own
  ``coerce_output_value``; objects and lists of objects under it are planned the same way.
  No path, info, awaitable or resolver call is made for them.
- direct calls: a resolver without arguments, field extensions or permission classes
  (``MedicalRecord.documentUrl``, ``Appointment.startsAt``): the function is called as
  Strawberry would call it (``self`` and ``info`` only), then completed by graphql-core.
- everything else (root fields, fields with arguments or permission classes, abstract
  types, directives other than include/skip): graphql-core's own ``execute_field``.
  Its ``complete_value`` is overridden so that an object, or a list of objects that
  are all there, returned by such a field is completed through the plan too, not
  through five graphql-core frames per item before ``execute_fields``.

A plain read that would not give a value graphql-core accepts as it is (an attribute
missing from ``__dict__``, a null for a non-null type, a value the scalar refuses, a
list holding nulls, an exception) is handed, unchanged, to ``execute_field``: reading it
again is harmless, and then the error, its message, path, location and null bubbling
are graphql-core's own. Fields run in the order of the selection set, depth first, with
the same awaitables at the same places as graphql-core's, so that errors, audit entries
and loader calls come in the same order. With middleware (an extension's ``resolve``
hook: traced resolvers) or an abort signal every field runs the ordinary way; with
@defer, the fields of a deferred position, and an object whose selection set defers a
fragment, are graphql-core's.

Why not breadth-first (one pass per field over a list of objects, as Shopify does):
it would change the order of errors and of resolver calls, and here the per-field cost
it saves is already gone from plain reads; what is left per object is a dict lookup
and the scalar's serializer.

A plan kept from one request to the next whose fields, and those of the plans under it,
are all plain reads is compiled into Python at its first run (``compiled.py``, as
graphql-jit compiles a document): straight-line code per object instead of the loop
over steps, with the interpreted run behind it for any object it does not take whole.

The modules, each class adding to the one before: ``plan.py`` sorts a selection set's
fields into steps; ``complete.py`` completes a field's value (plain reads, the objects
under them); ``direct.py`` makes direct calls; ``run.py`` runs a plan over an object
or a list of objects; ``executor.py`` is the execution context, graphql-core's hooks
overridden to use them; ``shared.py`` keeps plans from one request to the next;
``compiled.py`` writes a plan out as a function. ``values.py`` and ``counts.py`` are
what they share.
"""

from schema.fast_executor.counts import FIELD_COUNTS, FieldCounts
from schema.fast_executor.executor import FastExecutor

__all__ = ["FIELD_COUNTS", "FastExecutor", "FieldCounts"]
