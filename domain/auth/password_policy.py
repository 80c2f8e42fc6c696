"""What a new password must be (NIST SP 800-63B 3.1.1.2): 8 to 256 characters, any
characters a person can type, and not one that many people use."""

from typing import Final

from domain.validation import text_problem
from services.errors import BadUserInput

MIN_PASSWORD_LENGTH: Final = 8
MAX_PASSWORD_LENGTH: Final = 256
TOO_COMMON: Final = "too commonly used; choose one that others are unlikely to have"


def _is_common(password: str) -> bool:
    # The lists take 15 MB once loaded: imported at the first new password, not by
    # every API process at start (tests/test_api_imports.py).
    from services.auth.common_passwords import is_common as listed  # noqa: PLC0415

    return listed(password)


def password_problem(password: str) -> str | None:
    """What is wrong with ``password`` as a new password, as a short phrase, or None."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"{MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
    if problem := text_problem(password, MAX_PASSWORD_LENGTH):
        return problem
    if _is_common(password):
        return TOO_COMMON
    return None


def check_new_password(password: str) -> None:
    """:raise BadUserInput: naming what is wrong with ``password``."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise BadUserInput(
            f"The password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."
        )
    if problem := text_problem(password, MAX_PASSWORD_LENGTH):
        raise BadUserInput(f"The password {problem}.")
    if _is_common(password):
        raise BadUserInput(f"The password is {TOO_COMMON}.")
