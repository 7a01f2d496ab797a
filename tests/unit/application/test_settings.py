"""Settings: names people know, any-case actions, clear errors, and the precedence of sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.config_file import config_path, load_settings, write_setting
from application.errors import ConfigurationError
from application.settings import Settings
from domain.policy import Action, SyncPolicy


def test_defaults_are_the_recommended_ones_of_the_product() -> None:
    settings = Settings()
    assert settings.policy() == SyncPolicy()
    assert settings.sync_from_kobo_newer is Action.SILENT
    assert settings.sync_to_kobo_older is Action.NEVER
    assert settings.busy_timeout_seconds == 10.0


@pytest.mark.parametrize("text", ["prompt", "PROMPT", "Prompt", " prompt "])
def test_actions_are_accepted_in_any_case(text: str) -> None:
    assert Settings().merged({"sync_to_kobo_newer": text}, "test").sync_to_kobo_newer is Action.PROMPT


def test_an_unknown_key_names_the_key_and_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings().merged({"sync_to_kobo_newest": "silent"}, "config.toml")
    message = str(error.value)
    assert "sync_to_kobo_newest" in message and "sync_to_kobo_newer" in message and "config.toml" in message


def test_a_bad_action_names_the_key_the_value_and_the_allowed_values() -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings().merged({"sync_from_kobo_older": "sometimes"}, "environment")
    message = str(error.value)
    assert "sync_from_kobo_older" in message and "'sometimes'" in message
    assert "prompt, silent, never" in message


@pytest.mark.parametrize("value", ["maybe", "2", ""])
def test_a_bad_boolean_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match="sync_reading_state"):
        Settings().merged({"sync_reading_state": value}, "test")


def test_busy_timeout_must_be_a_sane_number_of_seconds() -> None:
    assert Settings().merged({"busy_timeout_seconds": "2.5"}, "t").busy_timeout_seconds == 2.5
    for value in ("-1", "abc", "nan", True, None):
        with pytest.raises(ConfigurationError, match=r"busy_timeout_seconds.*seconds from 0 to 600"):
            Settings().merged({"busy_timeout_seconds": value}, "t")


def test_file_then_environment_then_command_line(tmp_path: Path) -> None:
    path = config_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(
        'sync_to_kobo_newer = "prompt"\nsync_from_kobo_newer = "never"\nenable_auto_sync = false\n'
    )
    environ = {"KKSYNC_SYNC_FROM_KOBO_NEWER": "prompt", "KKSYNC_DEVICE": "/ignored"}
    settings = load_settings(tmp_path, {"enable_auto_sync": "true"}, environ)
    assert settings.sync_to_kobo_newer is Action.PROMPT  # file
    assert settings.sync_from_kobo_newer is Action.PROMPT  # environment beats file
    assert settings.enable_auto_sync is True  # command line beats both


def test_a_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    path = config_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("sync_to_kobo_newer = \n")
    with pytest.raises(ConfigurationError, match=r"config\.toml"):
        load_settings(tmp_path, {}, {})


def test_writing_a_setting_keeps_the_others_and_round_trips(tmp_path: Path) -> None:
    write_setting(tmp_path, "sync_to_kobo_older", "PROMPT")
    settings = write_setting(tmp_path, "enable_sync_from_kobo", "off")
    assert settings.sync_to_kobo_older is Action.PROMPT and settings.enable_sync_from_kobo is False
    reread = load_settings(tmp_path, {}, {})
    assert reread == settings
    assert 'sync_to_kobo_older = "prompt"' in config_path(tmp_path).read_text()


def test_writing_a_bad_value_leaves_the_file_alone(tmp_path: Path) -> None:
    write_setting(tmp_path, "sync_to_kobo_older", "prompt")
    before = config_path(tmp_path).read_bytes()
    with pytest.raises(ConfigurationError):
        write_setting(tmp_path, "sync_to_kobo_older", "always")
    assert config_path(tmp_path).read_bytes() == before
