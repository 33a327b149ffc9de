"""Safe-mode (AES) message crypto: wechatpy's PrpCrypto behind strict checks.

wechatpy compares signatures with ``!=`` and trusts the padding and length fields of the
plaintext; here the msg_signature is checked in constant time first, and every malformed
ciphertext, bad padding, bad length or foreign app id becomes one ``DecryptError``.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from wechatpy.crypto import PrpCrypto

from bot.core.clock import epoch
from bot.wechat.signature import SignatureError, sign, verify


class DecryptError(Exception):
    """The ciphertext cannot be turned into a message for this app."""


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        self.token = token
        self.app_id = app_id
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("EncodingAESKey must decode to 32 bytes")

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str, *, window: int) -> str:
        """Verify msg_signature over ``encrypt`` and return the plaintext XML."""
        verify(self.token, msg_signature, timestamp, nonce, window=window, extra=encrypt)
        return self.decrypt_unsigned(encrypt)

    def decrypt_unsigned(self, encrypt: str) -> str:
        try:
            raw = base64.b64decode(encrypt, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("Encrypt is not base64") from None
        if not raw or len(raw) % 16:
            raise DecryptError("ciphertext length is not a multiple of the AES block")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        plain = decryptor.update(raw) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= 32 or plain[-pad:] != bytes([pad]) * pad:
            raise DecryptError("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise DecryptError("plaintext too short")
        (length,) = struct.unpack("!I", content[:4])
        if length > len(content) - 4:
            raise DecryptError("declared message length exceeds the plaintext")
        message, app_id = content[4 : 4 + length], content[4 + length :]
        if app_id != self.app_id.encode("utf-8"):
            raise DecryptError("the ciphertext is for another app id")
        try:
            return message.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptError("message is not UTF-8") from None

    def encrypt_reply(self, xml: str, nonce: str, timestamp: str | None = None) -> str:
        """The encrypted reply envelope, signed with a fresh timestamp."""
        timestamp = timestamp or str(int(epoch()))
        encrypt = PrpCrypto(self.key).encrypt(xml, self.app_id).decode("ascii")
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )


def new_nonce() -> str:
    return str(secrets.randbelow(10**10))


__all__ = ["DecryptError", "MessageCrypto", "SignatureError", "new_nonce"]
