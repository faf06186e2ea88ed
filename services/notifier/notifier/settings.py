"""The notifier's configuration, read once from the environment."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

from vtkit.config import ConfigError, env, group
from vtkit.kafka import KafkaSettings
from vtkit.tenants import all_tenants


@dataclass(frozen=True)
class Settings:
    key_dir: str = env("VT_KEY_DIR", doc="key directory (tokens.json for gRPC callers)")
    data_dir: str = env("VT_DATA_DIR", doc="directory of notifier.sqlite3")
    kafka: KafkaSettings = group(KafkaSettings, doc="the KAFKA_* variables (vtkit.kafka)")
    grpc_port: int = env("GRPC_PORT", 0)
    regional_endpoints: str = env("NOTIFIER_REGIONAL_ENDPOINTS", "", doc='comma list "tenant=host:port"')
    teamlead_endpoints_raw: str = env("NOTIFIER_TEAMLEAD_ENDPOINTS", "",
                                      doc='comma list "tenant=host:port": where an inbox item nobody acknowledged in '
                                          'time is escalated (a RegionalCallbackService of the team lead)')
    letter_gateway: str = env("NOTIFIER_LETTER_GATEWAY", "", doc="host:port of the LetterGatewayService")
    professional_endpoint: str = env("NOTIFIER_PROFESSIONAL_ENDPOINT", "",
                                     doc="host:port of the ProfessionalNotificationService")
    rvdk_endpoint: str = env("NOTIFIER_RVDK_ENDPOINT", "",
                             doc="host:port of the RvdK's ProfessionalNotificationService, where RvdK requests go; "
                                 "unset: to NOTIFIER_PROFESSIONAL_ENDPOINT like every other notice")
    brp_register: str = env("NOTIFIER_BRP_REGISTER", "",
                            doc="the BRP simulator's register file (simulators.brp.BrpRegister): where the "
                                "household letter finds a person's address by BSN; unset: only the melding's")
    retry_base_seconds: float = env("NOTIFIER_RETRY_BASE_SECONDS", 1.0)
    max_attempts: int = env("NOTIFIER_MAX_ATTEMPTS", 8)
    scan_seconds: float = env("NOTIFIER_SCAN_SECONDS", 0.5)
    # A receiver that does not answer within this time counts as unavailable (retried).
    call_timeout_seconds: float = env("NOTIFIER_CALL_TIMEOUT_SECONDS", 5.0)
    group_id: str = env("NOTIFIER_GROUP_ID", "vt-notifier")
    log_level: str = env("LOG_LEVEL", "INFO")

    def __post_init__(self) -> None:
        # A wrong endpoint list stops the service at start, naming the variable.
        self.endpoints()
        self.teamlead_endpoints()

    @property
    def db_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "notifier.sqlite3"

    @property
    def audit_path(self) -> pathlib.Path:
        return pathlib.Path(self.data_dir) / "audit-notifier.jsonl"

    def endpoints(self) -> dict[str, str]:
        return parse_endpoints(self.regional_endpoints)

    def teamlead_endpoints(self) -> dict[str, str]:
        return parse_endpoints(self.teamlead_endpoints_raw, "NOTIFIER_TEAMLEAD_ENDPOINTS")


def parse_endpoints(raw: str, name: str = "NOTIFIER_REGIONAL_ENDPOINTS") -> dict[str, str]:
    """'groningen=127.0.0.1:5001,drenthe=host:5002' -> {tenant: address}; unknown tenants stop the service."""
    known = all_tenants()
    out: dict[str, str] = {}
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        tenant, sep, address = item.partition("=")
        tenant, address = tenant.strip(), address.strip()
        if not sep or not tenant or ":" not in address:
            raise ConfigError(f"configuration error: {name} entry {item!r} is not tenant=host:port")
        if tenant not in known:
            raise ConfigError(f"configuration error: {name} names unknown tenant {tenant!r}")
        out[tenant] = address
    return out
