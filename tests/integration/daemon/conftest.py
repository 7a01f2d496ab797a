"""The daemon fixtures of the RPC end-to-end tests, shared with the watcher tests."""

from tests.e2e.rpc.conftest import daemon, daemon_env, demo_device, short_dir

__all__ = ["daemon", "daemon_env", "demo_device", "short_dir"]
