"""Credentials of the API sources: read from the environment, named in one table, never written anywhere.

A source's config may name another variable for a role (``credentials = {api_key = "ACME_YT_KEY"}``); the
config and the store keep only the names. ``check`` runs in the parent process before the crawler starts, so a
missing credential is a usage error naming its variable before any request; the spider reads the values in the
crawler process, and ``RedactKeys`` masks them in every log line that process writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

# kind -> role -> default environment variable; REQUIRED roles must be set before a crawl starts
VARIABLES: dict[str, dict[str, str]] = {
    "youtube": {"api_key": "YOUTUBE_API_KEY"},
    "bluesky": {"handle": "BLUESKY_HANDLE", "app_password": "BLUESKY_APP_PASSWORD"},
    "mastodon": {"access_token": "MASTODON_ACCESS_TOKEN"},
}
OPTIONAL: dict[str, set[str]] = {"mastodon": {"access_token"}}  # public timelines need none on most instances


class MissingCredential(ValueError):
    """A credential the source needs is not in the environment."""


@dataclass(frozen=True)
class Credentials:
    """The values of one source's credentials by role (None: not set, for an optional role)."""

    kind: str
    variables: dict[str, str]
    values: dict[str, str | None]

    def get(self, role: str) -> str | None:
        return self.values.get(role)

    def secrets(self) -> list[str]:
        return [v for v in self.values.values() if v]


def variables(kind: str, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment variable of each of KIND's credential roles; OVERRIDES (the source's ``credentials``)
    rename some. An override for a role the kind does not have is an error, so a typo is not ignored."""
    defaults = VARIABLES.get(kind, {})
    overrides = dict(overrides or {})
    if unknown := set(overrides) - set(defaults):
        roles = ", ".join(defaults) or "none"
        raise MissingCredential(f"kind {kind!r} has no credential {', '.join(sorted(unknown))!r} (its roles: {roles})")
    return {role: overrides.get(role, name) for role, name in defaults.items()}


def read(kind: str, overrides: Mapping[str, str] | None = None,
         environ: Mapping[str, str] | None = None) -> Credentials:
    """KIND's credentials from the environment; MissingCredential names every required variable that is unset."""
    environ = os.environ if environ is None else environ
    names = variables(kind, overrides)
    values = {role: (environ.get(name) or None) for role, name in names.items()}
    missing = [names[role] for role, value in values.items() if value is None and role not in OPTIONAL.get(kind, set())]
    if missing:
        raise MissingCredential(
            f"a {kind} source needs {' and '.join(missing)} in the environment (export "
            f"{missing[0]}=...; a source's `credentials` may name another variable); nothing was requested"
        )
    return Credentials(kind, names, values)


def check(kind: str, overrides: Mapping[str, str] | None = None) -> None:
    """Raise MissingCredential before a crawl when KIND's required credentials are not set."""
    read(kind, overrides)
