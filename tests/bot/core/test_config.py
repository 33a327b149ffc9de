from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import load_settings
from bot.core.config import ConfigError
from tests.conftest import SECRET_ENV

pytestmark = pytest.mark.unit

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, valid base64


def test_defaults_need_no_file() -> None:
    settings = load_settings(None, environ=SECRET_ENV)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url == ""
    assert settings.wechat.safe_mode is False


def test_file_then_environment(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('redis_url = "redis://127.0.0.1:6379/0"\n[wechat]\ntoken = "from-file"\napp_id = "wx1"\n')
    settings = load_settings(
        file, environ={**SECRET_ENV, "CITYBOT_WECHAT_TOKEN": "from-env", "CITYBOT_REDIS_URL": ""}
    )
    assert settings.wechat.token == "from-env"
    assert settings.wechat.app_id == "wx1"
    assert settings.redis_url == ""


def test_config_path_from_environment(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text("[wechat]\ntimestamp_window = 60\n")
    settings = load_settings(None, environ={**SECRET_ENV, "CITYBOT_CONFIG": str(file)})
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
        load_settings(file, environ=SECRET_ENV)
    assert f"  {key}:" in str(info.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "absent.toml", environ=SECRET_ENV)
    broken = tmp_path / "broken.toml"
    broken.write_text("[wechat\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(broken, environ=SECRET_ENV)


def test_environment_values_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"wechat\.encrypted_only"):
        load_settings(None, environ={**SECRET_ENV, "CITYBOT_WECHAT_ENCRYPTED_ONLY": "maybe"})


def test_intake_budget_and_lease_are_bounded_and_consistent() -> None:
    with pytest.raises(ConfigError, match=r"intake\.passive_budget"):
        load_settings(None, environ={**SECRET_ENV, "CITYBOT_INTAKE_PASSIVE_BUDGET": "5"})  # WeChat waits 5 s
    with pytest.raises(ConfigError, match=r"retry_horizon must exceed lease"):
        load_settings(
            None, environ={**SECRET_ENV, "CITYBOT_INTAKE_LEASE": "20", "CITYBOT_INTAKE_RETRY_HORIZON": "15"}
        )
    intake = load_settings(None, environ={**SECRET_ENV, "CITYBOT_INTAKE_LEASE": "6"}).intake
    assert (intake.lease, intake.retry_horizon, intake.passive_budget) == (6.0, 16.0, 4.5)


def test_removed_dedupe_settings_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"wechat\.dedupe_ttl"):
        load_settings(None, {"wechat": {"dedupe_ttl": 300}}, environ=SECRET_ENV)


# -- secret_key ------------------------------------------------------------------------------------

REPO = Path(__file__).resolve().parents[3]


def _secret_error(**overrides: object) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(None, overrides, environ={})
    return str(info.value)


def test_the_default_secret_key_is_refused() -> None:
    message = _secret_error()
    assert "  secret_key: is the built-in default 'change-me'" in message
    assert "CITYBOT_SECRET_KEY" in message
    assert "demo = true" in message
    assert "  secret_key:" in _secret_error(secret_key="change-me", demo=False)


@pytest.mark.parametrize("key", ["", "test-secret", "x" * 31])
def test_a_short_secret_key_is_refused(key: str) -> None:
    message = _secret_error(secret_key=key)
    assert f"  secret_key: has {len(key)} characters, fewer than 32" in message
    assert repr(key) not in message  # the key itself is never echoed


def test_a_demo_may_keep_a_short_or_default_key() -> None:
    assert load_settings(None, {"demo": True}, environ={}).secret_key == "change-me"
    assert (
        load_settings(None, environ={"CITYBOT_DEMO": "true", "CITYBOT_SECRET_KEY": "abc"}).secret_key == "abc"
    )


def test_a_long_secret_key_is_accepted() -> None:
    key = "k" * 32
    settings = load_settings(None, environ={"CITYBOT_SECRET_KEY": key})
    assert settings.secret_key == key
    assert settings.demo is False
    assert key not in repr(settings)


def test_the_shipped_configurations() -> None:
    demo = load_settings(REPO / "config.demo.toml", environ={})
    assert demo.demo is True
    example = REPO / "config.example.toml"
    with pytest.raises(ConfigError, match="  secret_key: is the built-in default"):
        load_settings(example, environ={})
    assert load_settings(example, environ=SECRET_ENV).demo is False
