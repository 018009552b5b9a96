"""The lab side: keys, issuance of signed certificates (JWS, QR) and their status lists."""

from issuer._lab import IssuedCertificate, LabIssuer
from issuer.qr import make_qr, qr_version, write_qr_png

__all__ = ["IssuedCertificate", "LabIssuer", "make_qr", "qr_version", "write_qr_png"]
