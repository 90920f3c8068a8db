"""The API key of the Serve apps, as replicas hold it: a salted SHA-256 digest, never the key.

The deployer reads ``RAYOPT_API_KEY`` and hands replicas only :class:`KeyDigest` (a random
salt and ``sha256(salt + key)``) in the deployment's ``user_config``. Before, the key itself
rode in the replicas' ``runtime_env``, where the Ray dashboard's Serve and actor APIs and
the runtime-env agent's log showed it in plain text. The digest lets a replica check a
presented key (:meth:`KeyDigest.accepts`) and lets a deployer tell whether a running app
enforces its key (:func:`key_matches`), but does not give the key back. Use a random key
(``openssl rand -hex 32``): a digest of a guessable one can be brute-forced offline.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import asdict, dataclass
from typing import Any

API_KEY_ENV = "RAYOPT_API_KEY"
#: The ``user_config`` field of the ``llm`` and ``embed`` deployments that carries the digest.
USER_CONFIG_FIELD = "api_key"


def _sha256(salt: str, key: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode()).hexdigest()


@dataclass(frozen=True)
class KeyDigest:
    """A salted SHA-256 digest of an API key.

    Attributes:
        salt: 16 random bytes, hex.
        sha256: ``sha256(salt + key)``, hex.
    """

    salt: str
    sha256: str

    @classmethod
    def of(cls, key: str, salt: str | None = None) -> KeyDigest:
        """The digest of ``key`` (with a fresh random salt unless one is given)."""
        salt = salt or secrets.token_hex(16)
        return cls(salt=salt, sha256=_sha256(salt, key))

    def accepts(self, presented: str) -> bool:
        """Whether ``presented`` is the key (constant-time comparison of the digests)."""
        return hmac.compare_digest(_sha256(self.salt, presented), self.sha256)

    def as_user_config(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_user_config(cls, value: dict[str, Any] | None) -> KeyDigest | None:
        """The digest in a deployment's ``user_config`` (``None``: the app is open)."""
        return cls(salt=str(value["salt"]), sha256=str(value["sha256"])) if value else None


def deployer_key() -> str | None:
    """The key this process deploys with: ``$RAYOPT_API_KEY`` (``None`` when unset or empty)."""
    return os.environ.get(API_KEY_ENV) or None


def digest_user_config() -> dict[str, str] | None:
    """The ``user_config`` value for the deployer's key (a fresh salt each call), or ``None``."""
    key = deployer_key()
    return KeyDigest.of(key).as_user_config() if key else None


def key_matches(running: KeyDigest | None, key: str | None) -> bool:
    """Whether an app holding ``running`` enforces exactly ``key`` (both ``None``: both open)."""
    if running is None or key is None:
        return running is None and key is None
    return running.accepts(key)
