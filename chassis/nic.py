"""The encryption NIC's GST APIs (the e-invoice IRP, the e-way bill system) mandate, in one place for
the adapters that call them and the sandbox that stands in for them.

Authentication sends the login and a fresh 32-byte app key RSA-encrypted (PKCS#1 v1.5) with NIC's
public key; NIC answers a session encryption key (SEK) AES-256-ECB-encrypted with that app key; every
later request and answer body is AES-256-ECB with the SEK, PKCS#7-padded, in base64.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import padding as symmetric_padding
from cryptography.hazmat.primitives.asymmetric import padding as asymmetric_padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import load_pem_public_key

__all__ = ["aes_decrypt", "aes_encrypt", "new_key", "public_key", "rsa_decrypt", "rsa_encrypt"]


def new_key() -> bytes:
    """A fresh AES-256 key (an app key, or the sandbox's SEK)."""
    return os.urandom(32)


def aes_encrypt(key: bytes, plain: bytes) -> str:
    """AES-256-ECB with PKCS#7 padding, in base64: how a request body's Data is sealed with the SEK."""
    padder = symmetric_padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def aes_decrypt(key: bytes, sealed: str) -> bytes:
    """The inverse of aes_encrypt; ValueError when the key or the padding is wrong."""
    decryptor = Cipher(algorithms.AES(key), modes.ECB()).decryptor()
    padded = decryptor.update(base64.b64decode(sealed)) + decryptor.finalize()
    unpadder = symmetric_padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def public_key(pem: str) -> RSAPublicKey:
    """NIC's public key from its PEM text."""
    key = load_pem_public_key(pem.encode())
    if not isinstance(key, RSAPublicKey):
        raise ValueError("NIC's public key is an RSA key")
    return key


def rsa_encrypt(key: RSAPublicKey, plain: bytes) -> str:
    """RSA PKCS#1 v1.5 with NIC's public key, in base64: how the login and app key travel."""
    return base64.b64encode(key.encrypt(plain, asymmetric_padding.PKCS1v15())).decode()


def rsa_decrypt(key: RSAPrivateKey, sealed: str) -> bytes:
    """The inverse of rsa_encrypt, for whoever holds the private key (the sandbox)."""
    return key.decrypt(base64.b64decode(sealed), asymmetric_padding.PKCS1v15())
