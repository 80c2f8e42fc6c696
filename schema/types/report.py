import strawberry

from domain.reports import DoctorReport
from schema.types.doctor import Doctor


@strawberry.type
class DoctorReportRow:
    doctor: Doctor
    scheduled: int
    completed: int
    cancelled: int
    no_show: int
    booked_minutes: int = strawberry.field(description="Time booked, cancellations aside.")
    open_minutes: int = strawberry.field(
        description="Time in the doctor's weekly blocks on those dates, less time away."
    )
    utilization: float = strawberry.field(description="bookedMinutes / openMinutes, 0 to 1.")

    @classmethod
    def from_report(cls, report: DoctorReport) -> "DoctorReportRow":
        # The doctor as the analytics database has it: no second trip to the primary.
        doctor = Doctor(
            id=strawberry.ID(str(report.doctor_id)),
            name=report.name,
            specialty=report.specialty,
            active=report.active,
        )
        return cls(
            doctor=doctor,
            scheduled=report.scheduled,
            completed=report.completed,
            cancelled=report.cancelled,
            no_show=report.no_show,
            booked_minutes=report.booked_minutes,
            open_minutes=report.open_minutes,
            utilization=report.utilization,
        )
