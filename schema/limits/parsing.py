"""Parsing with a cap on tokens: a large document is refused after a bounded amount of work."""

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, GraphQLSyntaxError, parse
from strawberry.extensions import SchemaExtension

from schema.limits.too_complex import too_complex

# The largest document the tests send has 1,417 tokens (101 aliased logins);
# GraphiQL's introspection query has under 200. The worst document of 1,500
# tokens takes about 20 ms to parse and validate (docs/performance.md, "The door").
MAX_TOKENS = 1500


@lru_cache(maxsize=256)
def parse_document(query: str) -> DocumentNode:
    # Identical text gives the identical document, so the validation cache hits.
    return parse(query, max_tokens=MAX_TOKENS)


class ParseWithTokenLimit(SchemaExtension):
    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query
        if query:  # strawberry refuses a request without one
            try:
                self.execution_context.graphql_document = parse_document(query)
            except GraphQLSyntaxError as error:
                # graphql-core says so only in words.
                if f"more than {MAX_TOKENS} tokens" in error.message:
                    raise too_complex(
                        f"The document has more than {MAX_TOKENS} tokens;"
                        f" at most {MAX_TOKENS} are allowed."
                    ) from None
                raise
        yield
