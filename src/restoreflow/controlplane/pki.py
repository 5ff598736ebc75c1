"""The control plane's keys and certificates, made once per state folder: a cluster CA, the API
server's serving certificate, one client certificate per identity, and the service-account key pair."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from restoreflow.sandbox.admission import SERVICE_RANGE

VALIDITY = datetime.timedelta(days=365)
SERVICE_IP = str(next(SERVICE_RANGE.hosts()))  # the range's first address, which kube-apiserver takes
SERVER_NAMES = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
# identity -> (user, group): the admin like envtest's, the components as kubeadm names them.
IDENTITIES = {
    "admin": ("admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
}


@dataclass(frozen=True)
class Pki:
    """Paths of the files under `<state>/pki`."""

    folder: Path

    @property
    def ca_cert(self) -> Path:
        return self.folder / "ca.crt"

    @property
    def ca_key(self) -> Path:
        return self.folder / "ca.key"

    @property
    def server_cert(self) -> Path:
        return self.folder / "apiserver.crt"

    @property
    def server_key(self) -> Path:
        return self.folder / "apiserver.key"

    @property
    def sa_key(self) -> Path:
        return self.folder / "sa.key"

    @property
    def sa_pub(self) -> Path:
        return self.folder / "sa.pub"

    def client_cert(self, identity: str) -> Path:
        return self.folder / f"{identity}.crt"

    def client_key(self, identity: str) -> Path:
        return self.folder / f"{identity}.key"


def make_pki(folder: Path) -> Pki:
    """Write every key and certificate under folder (kept when already there: reused across restarts)."""
    pki = Pki(folder)
    if pki.sa_pub.exists():
        return pki
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "restoreflow-ca")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write(pki.ca_key, pki.ca_cert, ca_key, ca_cert)
    sans: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", "::1", SERVICE_IP)]
    _issue(pki.server_key, pki.server_cert, "kube-apiserver", None, ca_key, ca_cert, sans)
    for identity, (user, group) in IDENTITIES.items():
        _issue(pki.client_key(identity), pki.client_cert(identity), user, group, ca_key, ca_cert, None)
    sa_key = ec.generate_private_key(ec.SECP256R1())
    pki.sa_key.write_bytes(_private_pem(sa_key))
    pki.sa_pub.write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return pki


def issue_client(pki: Pki, identity: str, user: str, group: str | None = None) -> None:
    """A client certificate for one more user, signed by the plane's CA: it may do what RBAC grants it."""
    loaded = serialization.load_pem_private_key(pki.ca_key.read_bytes(), password=None)
    ca_key = cast(ec.EllipticCurvePrivateKey, loaded)
    ca_cert = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    _issue(pki.client_key(identity), pki.client_cert(identity), user, group, ca_key, ca_cert, None)


def _issue(
    key_path: Path,
    cert_path: Path,
    common_name: str,
    organization: str | None,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    sans: list[x509.GeneralName] | None,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    usage = x509.ExtendedKeyUsageOID.SERVER_AUTH if sans else x509.ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        _builder(x509.Name(attributes), ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    _write(key_path, cert_path, key, builder.sign(ca_key, hashes.SHA256()))


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write(key_path: Path, cert_path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    key_path.write_bytes(_private_pem(key))
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
