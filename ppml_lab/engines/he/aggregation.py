"""HE aggregation as a federated transport: the server adds ciphertexts it cannot read.

Wraps the aggregation of :mod:`ppml_lab.engines.federated` exactly as secure aggregation does
(the same :class:`~ppml_lab.engines.federated.strategies.Transport` interface), so FedAvg and
the rest of the federated simulation run unchanged on top of it.

Roles
-----
- The **key holder** (a party the clients trust, not the server) makes the keys and gives
  every client the public context (parameters and public key) the first time it takes part.
- Each **client** trains as in plain federated learning and encrypts its upload with the public
  key: its vector and its weight (row count) as one vector of ``dim + 1`` numbers, two per
  complex slot, in as many ciphertexts as it takes.
- The **server** adds the ciphertexts that arrive (a dropped client's upload simply is not
  added; nothing needs recovering) and sends the encrypted sum to the key holder.
- The **key holder** decrypts the sum, applies it to the model and sends the new model to the
  clients. The server never receives a decrypted value (CKKS is not secure against a server
  that sees decryptions of its ciphertexts: Li and Micciancio 2021).

Costs (``extra``, summed over rounds by the federated engine): ``encrypt_seconds`` (clients),
``compute_seconds`` (the server's additions), ``decrypt_seconds`` (key holder),
``serialize_seconds``, ``ciphertext_bytes`` (uploads and the encrypted sum) and
``context_bytes`` (public contexts sent to clients the first time they take part; the server
gets one too, counted in the first round). The largest error of a decrypted sum against the
plaintext sum is kept in :attr:`HEAggregation.max_abs_error`.
"""

from __future__ import annotations

import time

import numpy as np

from ppml_lab.engines.federated.strategies import Contribution, TransportReport, check_dropped
from ppml_lab.engines.he.ckks import KeyHolder, PublicEncryptor, Server
from ppml_lab.engines.he.security import CKKSSettings

__all__ = ["HEAggregation"]


class HEAggregation:
    """Sums the round's contributions under CKKS encryption; see the module text."""

    name = "he-aggregation"

    def __init__(self, settings: CKKSSettings, *, allow_weak: bool = False) -> None:
        self.settings = settings
        self.key_holder = KeyHolder(settings, allow_weak=allow_weak, public_key=True)
        self._public = self.key_holder.public_context()
        self.server = Server(self._public)
        self._clients: dict[int, PublicEncryptor] = {}
        self._server_has_context = False
        self.keygen_seconds = self.key_holder.keygen_seconds
        self.max_abs_error = 0.0
        self.plaintext_seconds = 0.0
        self.ciphertexts_per_upload = 0
        self.ciphertext_bytes = 0
        self.values_encrypted = 0

    @property
    def context_bytes(self) -> int:
        return len(self._public)

    def _client(self, client_id: int) -> tuple[PublicEncryptor, int]:
        """The client's encryptor, and the context bytes it downloaded for it now (0 if not new)."""
        if client_id in self._clients:
            return self._clients[client_id], 0
        self._clients[client_id] = PublicEncryptor(self._public)
        return self._clients[client_id], len(self._public)

    def collect(
        self, contributions: list[Contribution], dropped: list[int], *, model_bytes: int,
        round_id: int,
    ) -> TransportReport:
        lost = check_dropped(contributions, dropped)
        dim = (contributions[0].vector.size if contributions else model_bytes // 8) + 1
        per_ct = 2 * self.settings.slots  # two numbers per complex slot
        chunks = [slice(s, min(dim, s + per_ct)) for s in range(0, dim, per_ct)]
        self.ciphertexts_per_upload = len(chunks)
        extra = dict.fromkeys(("encrypt_seconds", "compute_seconds", "decrypt_seconds",
                               "serialize_seconds", "ciphertext_bytes", "context_bytes"), 0.0)
        survivors = [c.client for c in contributions if c.client not in lost]
        gone = [c.client for c in contributions if c.client in lost]
        if not contributions:
            return TransportReport(total=np.zeros(dim - 1), n_rows_total=0.0, bytes_up=0,
                                   bytes_down=0, survivors=[], dropped=[], extra=extra)
        bytes_up = 0
        bytes_down = model_bytes * len(contributions)
        if not self._server_has_context:
            self._server_has_context = True
            extra["context_bytes"] += len(self._public)
            bytes_down += len(self._public)
        serialize_before = self.server.serialize_seconds + self.key_holder.serialize_seconds
        sums: list = [None] * len(chunks)
        plain = np.zeros(dim)
        for c in contributions:
            client, context_now = self._client(c.client)
            extra["context_bytes"] += context_now
            bytes_down += context_now
            payload = np.append(np.asarray(c.vector, dtype=np.float64), float(c.n_rows))
            enc0, ser0 = client.encrypt_seconds, client.serialize_seconds
            blobs = [client.encrypt(payload[s], complex_packing=True) for s in chunks]
            extra["encrypt_seconds"] += client.encrypt_seconds - enc0
            extra["serialize_seconds"] += client.serialize_seconds - ser0
            size = sum(len(b) for b in blobs)
            bytes_up += size
            extra["ciphertext_bytes"] += size
            self.values_encrypted += dim
            if c.client in lost:  # encrypted and sent, but the upload never arrived
                continue
            t0 = time.perf_counter()
            plain += payload
            self.plaintext_seconds += time.perf_counter() - t0
            compute0 = self.server.compute_seconds
            cts = [self.server.receive(b) for b in blobs]
            t0 = time.perf_counter()
            for k, ct in enumerate(cts):
                if sums[k] is None:
                    sums[k] = ct
                else:
                    self.server.evaluator.add_inplace(sums[k], ct)
            self.server.compute_seconds += time.perf_counter() - t0
            extra["compute_seconds"] += self.server.compute_seconds - compute0
        if not survivors:
            total = np.zeros(dim)
        else:
            # The server sends the encrypted sum to the key holder, who decrypts it.
            blobs = [self.server.send(ct) for ct in sums]
            size = sum(len(b) for b in blobs)
            bytes_down += size
            extra["ciphertext_bytes"] += size
            dec0 = self.key_holder.decrypt_seconds
            total = np.concatenate([
                self.key_holder.decrypt(b, s.stop - s.start, complex_packing=True)
                for b, s in zip(blobs, chunks)
            ])
            extra["decrypt_seconds"] += self.key_holder.decrypt_seconds - dec0
            self.max_abs_error = max(self.max_abs_error, float(np.max(np.abs(total - plain))))
        extra["serialize_seconds"] += (self.server.serialize_seconds
                                       + self.key_holder.serialize_seconds - serialize_before)
        self.ciphertext_bytes += int(extra["ciphertext_bytes"])
        return TransportReport(
            total=total[:-1], n_rows_total=float(round(total[-1])), bytes_up=bytes_up,
            bytes_down=bytes_down, survivors=survivors, dropped=gone, extra=extra,
        )

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self.server.close()
        self.key_holder.close()
