"""Validation: the door's linear checks first, then the specification's rules, cached per document.

graphql-core bounds its own costly rules with work budgets (the overlapping-fields
comparison, shared fragments); at its defaults they allow about a second of work,
so they are lowered here to about 10 ms each. A document that exhausts one is
refused as too complex.
"""

from collections.abc import Iterator
from functools import lru_cache

import graphql.validation.rules.overlapping_fields_can_be_merged as overlapping_fields
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from graphql.validation import validation_context
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.limits.document_shape import shape_errors
from schema.limits.parsing import parse_document
from schema.limits.too_complex import too_complex

# Module attributes that graphql-core reads at the start of each validation.
overlapping_fields.MAX_COMPLEXITY_BUDGET = 5_000
validation_context.MAX_FRAGMENT_WORK = 5_000

# Strawberry's own rules for its `Maybe` and `@oneOf` inputs.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)


@lru_cache(maxsize=256)
def validate_query(
    schema: GraphQLSchema,
    query: str,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    """Cached on the document's text, whose hash Python keeps: the parsed document
    hashes its whole tree at every lookup (15 µs for the records query). The same
    text always parses to the same document (``parse_document`` is cached too)."""
    return validate_document(schema, parse_document(query), rules, hide_suggestions)


def validate_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    rules: tuple[type[ASTValidationRule], ...],
    hide_suggestions: bool,
) -> list[GraphQLError]:
    refused = shape_errors(document)
    if refused:
        return refused
    errors = validate(
        schema, document, (*rules, *_STRAWBERRY_RULES), hide_suggestions=hide_suggestions
    )
    return [
        too_complex("The document is too complex to validate.")
        if isinstance(error, ValidationAbortedError)
        else error
        for error in errors
    ]


class ValidateDocument(SchemaExtension):
    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        schema, rules = context.schema._schema, context.validation_rules
        # Setting the errors (an empty list too) tells strawberry validation is done.
        context.pre_execution_errors = (
            validate_query(schema, context.query, rules, self.hide_suggestions)
            if context.query
            else validate_document(schema, context.graphql_document, rules, self.hide_suggestions)
        )
        yield
