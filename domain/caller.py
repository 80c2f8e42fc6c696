"""Who is asking: known from a verified access token, without a database lookup."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from db.enums import Role
from services.errors import Forbidden, Unauthenticated


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: uuid.UUID
    role: Role
    patient_id: uuid.UUID | None
    doctor_id: uuid.UUID | None
    # The access token's id and expiry (logout denylists it until then) and
    # its refresh-token family (logout revokes it).
    token_id: str
    token_expires_at: datetime
    family_id: uuid.UUID

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def require_signed_in(caller: Caller | None) -> Caller:
    if caller is None:
        raise Unauthenticated("Sign in first.")
    return caller


def require_admin(caller: Caller | None) -> Caller:
    caller = require_signed_in(caller)
    if not caller.is_admin:
        raise Forbidden("Only administrators may do this.")
    return caller
