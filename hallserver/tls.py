"""The hall's own CA and server certificate (DESIGN.md §9, docs/install.md): made by `hallq admin tls init`,
renewed by `hallq admin tls renew`, served by `hallq server --tls-dir DIR`.

A directory holds four files: `ca.pem` (public: stations pin its fingerprint, managers' browsers install it),
`ca.key` (0600: only `init` and `renew` read it), `server.pem` (the server certificate, then the CA, so a
client sees the chain) and `server.key` (0600). Keys are ECDSA P-256: small certificates and a cheap
handshake on a 2-core box. Renewal signs a new server key with the same CA, so pinned stations keep working;
a new CA means every station enrolls again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hallcore.config import HallConfig
from hallcore.fingerprint import ca_fingerprint, short_fingerprint
from hallserver.private import PrivateFileError, check_private, write_private_new

#: Let a clock a few minutes behind (a station before its first time sync) accept a fresh certificate.
BACKDATE = dt.timedelta(minutes=10)


class TlsError(Exception):
    """The TLS directory is missing, incomplete or unreadable; the message says what to run."""


class _InDir:
    """One of the TLS directory's files, read as an attribute: its path in the directory."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, files: TlsFiles, _owner: type[TlsFiles] | None = None) -> pathlib.Path:
        return files.dir / self.name


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The four files of a hall's TLS directory."""

    dir: pathlib.Path
    ca_cert = _InDir("ca.pem")
    ca_key = _InDir("ca.key")
    cert = _InDir("server.pem")
    key = _InDir("server.key")

    def ca_pem(self) -> str:
        try:
            return self.ca_cert.read_text("ascii")
        except OSError as exc:
            raise TlsError(
                f"{self.ca_cert}: {exc.strerror}; run `hallq admin tls init --dir {self.dir}`"
            ) from exc

    def check_server(self) -> None:
        """Raise `TlsError` unless the server's certificate and key are there and the key is private."""
        for path in (self.cert, self.key, self.ca_cert):
            if not path.is_file():
                raise TlsError(
                    f"{path} is missing; run `hallq admin tls init --config FILE --dir {self.dir}`"
                )
        try:
            check_private(self.key)
        except PrivateFileError as exc:
            raise TlsError(str(exc)) from exc


def _write(path: pathlib.Path, data: bytes, private: bool) -> None:
    """Replace `path` atomically; a private file is 0600 from its first byte."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    tmp.chmod(0o600 if private else 0o644)
    tmp.replace(path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def make_ca(
    hall_id: str, hall_name: str, now: dt.datetime, days: int
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A CA for one hall: may sign server certificates only (path length 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, hall_name or hall_id),
            x509.NameAttribute(NameOID.COMMON_NAME, f"hallq CA {hall_id}"),
        ]
    )
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_server_cert(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: tuple[str, ...],
    addresses: tuple[str, ...],
    now: dt.datetime,
    days: int,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A server certificate for `names` and `addresses` (subject alternative names), signed by the CA."""
    if not names and not addresses:
        raise TlsError("a server certificate needs at least one name or address ([tls] names, addresses)")
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0] if names else addresses[0])])
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def server_names(
    config: HallConfig, extra_names: tuple[str, ...] = (), extra_addresses: tuple[str, ...] = ()
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The certificate's names and addresses: the config's `[tls]` and any given on the command line."""
    names = tuple(dict.fromkeys((*config.tls.names, *extra_names)))
    addresses = tuple(dict.fromkeys((*config.tls.addresses, *extra_addresses)))
    return names, addresses


def _issue_server(
    files: TlsFiles,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    names: tuple[str, ...],
    addresses: tuple[str, ...],
    now: dt.datetime,
    days: int,
) -> x509.Certificate:
    key, cert = make_server_cert(ca_key, ca_cert, names, addresses, now, days)
    # The key first: a crash between the two leaves the old certificate with a key that does not match
    # (the server refuses to start, renew again) rather than a new certificate with an old key.
    _write(files.key, _key_pem(key), private=True)
    _write(files.cert, _cert_pem(cert) + _cert_pem(ca_cert), private=False)
    return cert


def init(
    files: TlsFiles,
    config: HallConfig,
    now: dt.datetime,
    *,
    names: tuple[str, ...] = (),
    addresses: tuple[str, ...] = (),
) -> str:
    """Make the hall CA and a server certificate in `files.dir`; the CA's fingerprint. Refuses to replace an
    existing CA (stations pinned it): `renew` makes a new server certificate with it."""
    if files.ca_key.exists() or files.ca_cert.exists():
        raise TlsError(
            f"{files.dir} already holds a hall CA (stations pin it); `hallq admin tls renew` makes a new "
            "server certificate with it. Remove the directory only to start over: every station enrolls "
            "again."
        )
    all_names, all_addresses = server_names(config, names, addresses)
    files.dir.mkdir(parents=True, exist_ok=True)
    files.dir.chmod(0o700)
    ca_key, ca_cert = make_ca(config.hall.id, config.hall.name, now, config.tls.ca_days)
    write_private_new(files.ca_key, _key_pem(ca_key))  # once: never replaced (stations pin its certificate)
    _write(files.ca_cert, _cert_pem(ca_cert), private=False)
    _issue_server(files, ca_key, ca_cert, all_names, all_addresses, now, config.tls.server_days)
    return ca_fingerprint(_cert_pem(ca_cert).decode("ascii"))


def renew(
    files: TlsFiles,
    config: HallConfig,
    now: dt.datetime,
    *,
    names: tuple[str, ...] = (),
    addresses: tuple[str, ...] = (),
) -> x509.Certificate:
    """A new server key and certificate signed by the hall's existing CA (stations keep their pin); a running
    server serves it after a restart."""
    try:
        ca_key = serialization.load_pem_private_key(files.ca_key.read_bytes(), None)
        ca_cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    except OSError as exc:
        raise TlsError(f"{files.dir}: {exc.strerror}; run `hallq admin tls init` first") from exc
    except ValueError as exc:
        raise TlsError(f"{files.dir}: the CA files are unreadable ({exc})") from exc
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TlsError(f"{files.ca_key} is not an ECDSA key")
    if ca_cert.not_valid_after_utc <= now:
        raise TlsError(
            f"the hall CA expired on {ca_cert.not_valid_after_utc:%Y-%m-%d}: a new one needs re-enrollment"
        )
    all_names, all_addresses = server_names(config, names, addresses)
    return _issue_server(files, ca_key, ca_cert, all_names, all_addresses, now, config.tls.server_days)


def describe(files: TlsFiles) -> list[str]:
    """`hallq admin tls show`: the CA's fingerprint (full and short) and the server certificate's names and
    dates."""
    ca_pem = files.ca_pem()
    fp = ca_fingerprint(ca_pem)
    lines = [f"hall CA {files.ca_cert}", f"  fingerprint {short_fingerprint(fp)}  (SHA-256 {fp})"]
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except (OSError, ValueError) as exc:
        lines.append(f"server certificate {files.cert}: {exc}")
        return lines
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [str(n.value) for n in san]
    lines.append(f"server certificate {files.cert}")
    lines.append(f"  names {', '.join(names)}")
    lines.append(f"  valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}")
    return lines
