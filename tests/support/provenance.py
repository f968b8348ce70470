"""Benign provenance fixtures: a generated landscape carrying a signed C2PA manifest (from a
test certificate authority made here) or a Stable Diffusion watermark (embedded by the
`invisible-watermark` package's own encoder, with the generators' settings)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import numpy as np
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shieldwall.detection.c2pa_manifest import IPTC
from shieldwall.detection.watermarks import _max_dct

GENERATED = IPTC + "trainedAlgorithmicMedia"


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Shieldwall tests"),
        ]
    )


def _usage(*, signs_certificates: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def signing_credentials(signer: str = "Test generator") -> tuple[bytes, bytes]:
    """A certificate chain (signer, then a test CA) and the signer's private key, as PEM."""
    now = datetime.datetime.now(datetime.UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = (
        x509.CertificateBuilder()
        .subject_name(_name("Shieldwall test CA"))
        .issuer_name(_name("Shieldwall test CA"))
        .public_key(authority_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(signs_certificates=True), critical=True)
        .sign(authority_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(signer))
        .issuer_name(authority.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
            critical=False,
        )
        .sign(authority_key, hashes.SHA256())
    )
    chain = certificate.public_bytes(serialization.Encoding.PEM) + authority.public_bytes(
        serialization.Encoding.PEM
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private


def with_manifest(
    picture: bytes, media_type: str, source_type: str = GENERATED, generator: str = "Test generator"
) -> bytes:
    """`picture` with a C2PA manifest signed by a test CA: created, with `source_type`."""
    import c2pa

    chain, key = signing_credentials(generator)
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))
    action: dict[str, Any] = {"action": "c2pa.created"}
    if source_type:
        action["digitalSourceType"] = source_type
    manifest = {
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
        "title": "landscape",
        "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}}],
    }
    out = io.BytesIO()
    with c2pa.Builder(manifest) as builder:
        builder.sign(signer, media_type, io.BytesIO(picture), out)
    return out.getvalue()


def watermarked(rgb: np.ndarray, bits: tuple[int, ...], order: str = "BGR") -> np.ndarray:
    """`rgb` with a generator's message embedded by the package's dwtDct encoder, in the
    channel order that generator hands the package (BGR, or RGB for diffusers)."""
    encoder = _max_dct()(watermarks=list(bits), wmLen=len(bits))
    if order == "BGR":
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        return np.ascontiguousarray(encoder.encode(bgr)[:, :, ::-1])
    return np.ascontiguousarray(encoder.encode(rgb.copy()))
