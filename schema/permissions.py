"""Who may call a root field, declared on the field itself (``permission_classes``).

Role rules live here; row rules (which patient, appointment or schedule) live in the
domain, where loaders and mutations share them. A refusal raises the contract's error
(UNAUTHENTICATED for the anonymous, FORBIDDEN otherwise) and is audited as DENIED.
"""

from typing import Any

import strawberry
from strawberry.permission import BasePermission

from domain.caller import require_admin
from schema.context import Context
from services.errors import DomainError


class IsAdmin(BasePermission):
    def has_permission(self, source: Any, info: strawberry.Info[Context], **kwargs: Any) -> bool:
        try:
            require_admin(info.context.caller)
        except DomainError:
            info.context.audit.denied(info.field_name, resource_type="Operation")
            raise
        return True
