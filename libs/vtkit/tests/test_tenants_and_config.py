import dataclasses

import pytest
from vtkit.config import ConfigError, env, load_settings
from vtkit.tenants import UnknownTenant, all_tenants, get_tenant


def test_twenty_five_organisations_with_their_region_numbers() -> None:
    tenants = all_tenants()
    assert len(tenants) == 25
    assert sorted(t.region for t in tenants.values()) == list(range(1, 26))
    assert get_tenant("amsterdam-amstelland").region == 13
    with pytest.raises(UnknownTenant):
        get_tenant("atlantis")


def test_tenant_list_is_configuration(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "t.toml"
    path.write_text('[[tenant]]\nid = "merged-north"\nname = "VT Noord"\nregion = 1\n')
    monkeypatch.setenv("VT_TENANTS_FILE", str(path))
    assert list(all_tenants()) == ["merged-north"]


@dataclasses.dataclass(frozen=True)
class Demo:
    tenant: str = env("VT_TENANT")
    port: int = env("GRPC_PORT", 0)
    verbose: bool = env("VERBOSE", False)


def test_settings_are_typed_and_missing_values_are_named() -> None:
    s = load_settings(Demo, {"VT_TENANT": "zeeland", "GRPC_PORT": "50051", "VERBOSE": "yes"})
    assert (s.tenant, s.port, s.verbose) == ("zeeland", 50051, True)
    with pytest.raises(ConfigError, match="VT_TENANT"):
        load_settings(Demo, {})
    with pytest.raises(ConfigError, match="GRPC_PORT"):
        load_settings(Demo, {"VT_TENANT": "x", "GRPC_PORT": "abc"})


def test_a_group_is_loaded_from_the_same_environment_and_its_missing_variables_are_named_too() -> None:
    from vtkit.config import group
    from vtkit.kafka import KafkaSettings

    @dataclasses.dataclass(frozen=True)
    class WithKafka:
        data_dir: str = env("VT_DATA_DIR")
        kafka: KafkaSettings = group(KafkaSettings)
        port: int = env("GRPC_PORT", 0)

    with pytest.raises(ConfigError, match="VT_DATA_DIR, KAFKA_BOOTSTRAP_SERVERS"):
        load_settings(WithKafka, {})
    loaded = load_settings(WithKafka, {"VT_DATA_DIR": "/d", "KAFKA_BOOTSTRAP_SERVERS": "k:9092", "GRPC_PORT": "7"})
    assert (loaded.data_dir, loaded.kafka.bootstrap_servers, loaded.port) == ("/d", "k:9092", 7)
