"""The longest each list field is taken to be when a query's cost is estimated.

A connection's length is its `first`; these are the lists without one. The
README lists the same numbers; a list field missing here costs
``UNLISTED_LIST_SIZE``, and a test fails until it is added.
"""

# A doctor's day in 5-minute slots, the shortest `slotMinutes` allows.
SLOTS_PER_DAY = 24 * 60 // 5
# The longest range `schedule` accepts.
DAYS_PER_SCHEDULE = 31

LIST_SIZES: dict[tuple[str, str], int] = {
    ("Query", "clinics"): 100,  # a clinic network's clinics
    ("Query", "clinicReport"): 1000,  # a row per doctor of the network
    ("Doctor", "clinics"): 20,  # the clinics one doctor works at
    ("Query", "availableSlots"): SLOTS_PER_DAY,
    ("Doctor", "availableSlots"): SLOTS_PER_DAY,
    ("Subscription", "slotsChanged"): SLOTS_PER_DAY,
    ("Query", "doctorSchedule"): SLOTS_PER_DAY,  # a doctor's appointments on one day
    ("Query", "schedule"): SLOTS_PER_DAY * DAYS_PER_SCHEDULE,
    ("Doctor", "scheduleTemplates"): 50,  # weekly blocks, per clinic
    ("Doctor", "scheduleExceptions"): 100,
    # Notices of booking, moves and cancellation, and reminders, on two channels.
    ("Appointment", "notifications"): 20,
    ("Patient", "waitlist"): 50,  # the newest entries (domain.waitlist.MAX_LISTED)
}

UNLISTED_LIST_SIZE = 100


def list_size(type_name: str, field_name: str) -> int:
    return LIST_SIZES.get((type_name, field_name), UNLISTED_LIST_SIZE)
