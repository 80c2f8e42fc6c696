import strawberry

from resolvers.slots_changed import resolve_slots_changed
from schema.checked_arguments import check_arguments


@check_arguments
@strawberry.type
class Subscription:
    slots_changed = strawberry.subscription(
        resolver=resolve_slots_changed,
        description="The doctor's slots on the date (as `availableSlots` without "
        "`clinicId`): at once, then within a second of every committed change to them. "
        "Over graphql-transport-ws only, with the access token in `connection_init`.",
    )
