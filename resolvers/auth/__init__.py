"""Sign-up, sign-in, token refresh, sign-out and `me`: one resolver a file."""
