"""How long issuing and verifying an access token takes.

Run with ``python -m bench.token_verification``. Each figure is the median, over
several repeats, of the mean time per call in one repeat; prints a Markdown table.
"""

import argparse
import statistics
import timeit
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from joserfc.jwk import KeySet

from db.enums import Role
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import AccessClaims, TokenService


@dataclass(frozen=True, slots=True)
class Measurement:
    operation: str
    median_us: float
    best_us: float
    calls: int


def _measure(operation: str, call: Callable[[], object], number: int, repeat: int) -> Measurement:
    call()  # warm up
    totals = timeit.repeat(call, number=number, repeat=repeat)
    per_call = [total / number * 1e6 for total in totals]
    return Measurement(operation, statistics.median(per_call), min(per_call), number * repeat)


def run(number: int, repeat: int, older_keys: int) -> list[Measurement]:
    signing = generate_signing_key()
    older = [public_part(generate_signing_key()) for _ in range(older_keys)]
    keys = TokenKeys(signing=signing, verification=KeySet([public_part(signing), *older]))
    service = TokenService(keys, "medappt", "medappt-api")
    user_id, family_id, patient_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def issue() -> tuple[str, AccessClaims]:
        return service.issue_access(
            user_id=user_id, role=Role.PATIENT, family_id=family_id, patient_id=patient_id
        )

    token, _ = issue()

    def verify() -> AccessClaims:
        return service.verify_access(token)

    return [
        _measure("issue_access", issue, number, repeat),
        _measure("verify_access", verify, number, repeat),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=5000, help="calls per repeat")
    parser.add_argument("--repeat", type=int, default=7, help="repeats")
    parser.add_argument("--older-keys", type=int, default=2, help="extra verification keys")
    args = parser.parse_args()

    results = run(args.number, args.repeat, args.older_keys)
    print(
        f"Access tokens, Ed25519, {args.number} calls x {args.repeat} repeats, "
        f"{args.older_keys + 1} verification keys\n"
    )
    print("| operation | median µs/call | best µs/call | calls/s (median) |")
    print("|---|---:|---:|---:|")
    for result in results:
        print(
            f"| `{result.operation}` | {result.median_us:.1f} | {result.best_us:.1f} "
            f"| {1e6 / result.median_us:,.0f} |"
        )


if __name__ == "__main__":
    main()
