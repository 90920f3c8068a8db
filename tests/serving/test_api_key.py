"""The key replicas hold is a salted SHA-256 digest; a deployer can tell whether a running
app enforces its key, and a key change on running apps is applied or refused."""

import hashlib

import pytest

from serving import deploy
from serving.api_key import KeyDigest, digest_user_config, key_matches
from serving.config import ConfigError


def test_the_digest_is_sha256_of_salt_and_key():
    digest = KeyDigest.of("k3y", salt="00ff")
    assert digest.sha256 == hashlib.sha256(b"\x00\xff" + b"k3y").hexdigest()
    assert digest.accepts("k3y") and not digest.accepts("k3y ") and not digest.accepts("")
    fresh = KeyDigest.of("k3y")
    assert len(fresh.salt) == 32 and fresh.salt != KeyDigest.of("k3y").salt  # a new salt each time
    assert KeyDigest.from_user_config(fresh.as_user_config()) == fresh
    assert KeyDigest.from_user_config(None) is None


def test_the_user_config_holds_no_plaintext(monkeypatch):
    monkeypatch.setenv("RAYOPT_API_KEY", "plaintext-key")
    shown = digest_user_config()
    assert "plaintext-key" not in str(shown) and KeyDigest.from_user_config(shown).accepts("plaintext-key")
    monkeypatch.setenv("RAYOPT_API_KEY", "")  # empty: no key
    assert digest_user_config() is None


@pytest.mark.parametrize("running, key, match", [
    (None, None, True), (KeyDigest.of("a"), "a", True),
    (KeyDigest.of("a"), "b", False), (KeyDigest.of("a"), None, False), (None, "a", False),
])
def test_key_matches(running, key, match):
    assert key_matches(running, key) is match


@pytest.mark.parametrize("running, env, rekey, outcome", [
    ("a", "a", False, False),                    # same key: reused
    (None, None, False, False),                  # both open: reused
    ("a", "b", True, True),                      # `up` with a new key: redeployed with it
    (None, "b", True, True),                     # `up` putting a key on an open app
    ("a", "b", False, "does not enforce this `RAYOPT_API_KEY`"),
    (None, "b", False, "does not enforce this `RAYOPT_API_KEY`"),
    ("a", None, False, "requires an API key and `RAYOPT_API_KEY` is not set here"),
    ("a", None, True, "requires an API key"),    # `up` never opens a keyed app
])
def test_a_key_change_on_a_running_app_is_applied_or_refused(monkeypatch, running, env, rekey, outcome):
    monkeypatch.setattr(deploy, "running_key", lambda app: running and KeyDigest.of(running))
    if env is None:
        monkeypatch.delenv("RAYOPT_API_KEY", raising=False)
    else:
        monkeypatch.setenv("RAYOPT_API_KEY", env)
    if isinstance(outcome, str):
        with pytest.raises(ConfigError, match=outcome):
            deploy._check_key("llm", rekey)
    else:
        assert deploy._check_key("llm", rekey) is outcome
