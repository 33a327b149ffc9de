from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, valid base64


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, environ={})
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url == ""
    assert settings.wechat.safe_mode is False


def test_file_then_environment(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('redis_url = "redis://127.0.0.1:6379/0"\n[wechat]\ntoken = "from-file"\napp_id = "wx1"\n')
    settings = load_settings(file, environ={"CITYBOT_WECHAT_TOKEN": "from-env", "CITYBOT_REDIS_URL": ""})
    assert settings.wechat.token == "from-env"
    assert settings.wechat.app_id == "wx1"
    assert settings.redis_url == ""


def test_config_path_from_environment(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("[wechat]\ntimestamp_window = 60\n")
    settings = load_settings(None, environ={"CITYBOT_CONFIG": str(file)})
    assert settings.wechat.timestamp_window == 60


@pytest.mark.parametrize(
    ("content", "key"),
    [
        ('[wechat]\nencoding_aes_key = "short"\napp_id = "wx1"\n', "wechat.encoding_aes_key"),
        ('[wechat]\ntimestamp_window = "soon"\n', "wechat.timestamp_window"),
        ('[wechat]\ntokne = "typo"\n', "wechat.tokne"),
        ('redis_url = "localhost:6379"\n', "redis_url"),
        (f'[wechat]\nencoding_aes_key = "{AES_KEY}"\n', "wechat"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, content: str, key: str) -> None:
    file = tmp_path / "c.toml"
    file.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_settings(file, environ={})
    assert f"  {key}:" in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[wechat\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ={})


def test_environment_values_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"wechat\.encrypted_only"):
        load_settings(None, environ={"CITYBOT_WECHAT_ENCRYPTED_ONLY": "maybe"})


def test_intake_budget_and_lease_are_bounded_and_consistent() -> None:
    with pytest.raises(ConfigError, match=r"intake\.passive_budget"):
        load_settings(None, environ={"CITYBOT_INTAKE_PASSIVE_BUDGET": "5"})  # WeChat waits 5 s in all
    with pytest.raises(ConfigError, match=r"retry_horizon must exceed lease"):
        load_settings(None, environ={"CITYBOT_INTAKE_LEASE": "20", "CITYBOT_INTAKE_RETRY_HORIZON": "15"})
    intake = load_settings(None, environ={"CITYBOT_INTAKE_LEASE": "6"}).intake
    assert (intake.lease, intake.retry_horizon, intake.passive_budget) == (6.0, 16.0, 4.5)


def test_removed_dedupe_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"wechat\.dedupe_ttl"):
        load_settings(None, {"wechat": {"dedupe_ttl": 300}}, environ={})
