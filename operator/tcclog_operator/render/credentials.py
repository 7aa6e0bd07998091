"""Generated Secrets: made once, never regenerated, never logged.

Render is pure, so it cannot invent passwords: it would produce new ones on every call.
Instead the one impure step is explicit and happens before render:

    existing = values_from_secret_objects(secrets_read_from_cluster)   # kube.py
    values = fill_secret_values(tcclog, existing)                      # generates only gaps
    objects = render(tcclog, settings, secret_values=values)           # pure

`fill_secret_values` keeps every value already present and generates (with `secrets`)
only keys that are missing, so a reconcile never rotates a credential. The caller must
pass what is *in the cluster*: a Secret that could not be read (as opposed to one that
does not exist) must abort the reconcile, never be treated as empty.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..models import TccLog
from .meta import PGBACKREST_CLIENT_CN, names, namespace_of, object_meta

SecretValues = Mapping[str, Mapping[str, str]]

JWT_SECRET_KEY = "jwt-secret"
POSTGRES_SUPERUSER_PASSWORD_KEY = "superuser-password"
POSTGRES_REPLICATION_PASSWORD_KEY = "replication-password"
POSTGRES_APP_PASSWORD_KEY = "app-password"
POSTGRES_READONLY_PASSWORD_KEY = "readonly-password"
REDIS_PASSWORD_KEY = "password"
# The pgBackRest TLS Secret: one CA, the database pods' server pair, the backup jobs' client
# pair. No CA key is kept: the server certificate already names every possible member, so
# nothing ever needs re-issuing (delete the Secret to rotate all of it at once).
TLS_CA_KEY = "ca.crt"
TLS_SERVER_CERT_KEY = "server.crt"
TLS_SERVER_KEY_KEY = "server.key"
TLS_CLIENT_CERT_KEY = "client.crt"
TLS_CLIENT_KEY_KEY = "client.key"
TLS_KEYS = (TLS_CA_KEY, TLS_SERVER_CERT_KEY, TLS_SERVER_KEY_KEY, TLS_CLIENT_CERT_KEY,
            TLS_CLIENT_KEY_KEY)
TLS_VALIDITY = dt.timedelta(days=3650)
#: postgres.instances can be at most 9; the server certificate names all of them.
MAX_POSTGRES_INSTANCES = 9


def new_secret_value() -> str:
    """43 URL-safe characters (256 bits): safe inside URLs, DSNs and config files."""
    return secrets.token_urlsafe(32)


def pgbackrest_server_names(tcclog: TccLog) -> list[str]:
    """DNS names the pods' pgBackRest server certificate is valid for: every possible member
    by its headless-Service name (explicit names, no wildcard), plus localhost for
    commands run inside a pod."""
    child = names(tcclog)
    domain = f"{child.postgres_headless}.{namespace_of(tcclog)}.svc"
    hosts = [f"{child.postgres}-{i}.{domain}" for i in range(MAX_POSTGRES_INSTANCES)]
    return [*hosts, *(f"{host}.cluster.local" for host in hosts), "localhost"]


def new_pgbackrest_tls(tcclog: TccLog) -> dict[str, str]:
    """A fresh CA with a server and a client certificate (ECDSA P-256, PEM), all at once:
    the parts only work together, so they are never generated one by one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)  # tolerate clock skew

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem_key(key: ec.EllipticCurvePrivateKey) -> str:
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()

    def issue(subject: x509.Name, key: ec.EllipticCurvePrivateKey, is_ca: bool,
              extensions: list[x509.ExtensionType]) -> x509.Certificate:
        builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now).not_valid_after(now + TLS_VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), True))
        for extension in extensions:
            builder = builder.add_extension(extension, False)
        return builder.sign(ca_key, hashes.SHA256())

    def pem(cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode()

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"{names(tcclog).postgres}-pgbackrest-ca")
    ca = issue(ca_name, ca_key, True, [x509.KeyUsage(
        digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
        key_encipherment=False, data_encipherment=False, key_agreement=False,
        encipher_only=False, decipher_only=False)])
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = issue(name(names(tcclog).postgres), server_key, False, [
        x509.SubjectAlternativeName([x509.DNSName(n) for n in pgbackrest_server_names(tcclog)]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])])
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = issue(name(PGBACKREST_CLIENT_CN), client_key, False,
                   [x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH])])
    return {
        TLS_CA_KEY: pem(ca),
        TLS_SERVER_CERT_KEY: pem(server),
        TLS_SERVER_KEY_KEY: pem_key(server_key),
        TLS_CLIENT_CERT_KEY: pem(client),
        TLS_CLIENT_KEY_KEY: pem_key(client_key),
    }


def backup_enabled(tcclog: TccLog) -> bool:
    backup = tcclog.spec.backup
    return bool(backup and backup.enabled)


def required_secrets(tcclog: TccLog) -> dict[str, tuple[str, ...]]:
    """Secret name -> keys the operator generates for this TccLog (what kube.py must read)."""
    child = names(tcclog)
    required = {
        child.backend_secret: (JWT_SECRET_KEY,),
        child.postgres_credentials: (
            POSTGRES_SUPERUSER_PASSWORD_KEY,
            POSTGRES_REPLICATION_PASSWORD_KEY,
            POSTGRES_APP_PASSWORD_KEY,
            POSTGRES_READONLY_PASSWORD_KEY,
        ),
        child.redis_credentials: (REDIS_PASSWORD_KEY,),
    }
    if backup_enabled(tcclog):
        required[child.pgbackrest_tls] = TLS_KEYS
    return required


def fill_secret_values(
    tcclog: TccLog,
    existing: SecretValues,
    generate: Callable[[], str] = new_secret_value,
    generate_tls: Callable[[TccLog], dict[str, str]] = new_pgbackrest_tls,
) -> dict[str, dict[str, str]]:
    """Every required key: the existing value when there is one, else a new one.

    The pgBackRest TLS Secret is all or nothing: complete, it is kept; any key missing, the
    whole set is generated anew (a lone new key could not match the certificates kept).
    """
    filled: dict[str, dict[str, str]] = {}
    tls = names(tcclog).pgbackrest_tls
    for secret_name, keys in required_secrets(tcclog).items():
        current = existing.get(secret_name, {})
        if secret_name == tls:
            complete = all(current.get(key) for key in keys)
            filled[secret_name] = dict(current) if complete else generate_tls(tcclog)
            filled[secret_name] = {key: filled[secret_name][key] for key in keys}
            continue
        filled[secret_name] = {key: current.get(key) or generate() for key in keys}
    return filled


def values_from_secret_objects(objects: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Decode Secrets as read from the API (base64 `data`) into name -> key -> value."""
    decoded: dict[str, dict[str, str]] = {}
    for obj in objects:
        data = obj.get("data") or {}
        decoded[obj["metadata"]["name"]] = {
            key: base64.b64decode(value).decode() for key, value in data.items()
        }
    return decoded


def render_secrets(tcclog: TccLog, secret_values: SecretValues) -> list[dict[str, Any]]:
    """The generated Secrets. Raises KeyError if a value is missing (call fill_secret_values)."""
    child = names(tcclog)
    component = {
        child.backend_secret: "backend",
        child.postgres_credentials: "postgres",
        child.redis_credentials: "redis",
        child.pgbackrest_tls: "backup",
    }
    objects = []
    for secret_name, keys in required_secrets(tcclog).items():
        values = secret_values[secret_name]
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": object_meta(tcclog, secret_name, component[secret_name]),
                "type": "Opaque",
                # `data`, not `stringData`: stringData is write-only, so server-side apply
                # would see a difference on every reconcile.
                "data": {key: _b64(values[key]) for key in keys},
            }
        )
    return objects


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()
