"""The ledger check runs in the background, never inside a request (R17).

A page or API call shows the last completed verification stored in the database; an admin starts a
new one, which runs in a thread of this process with its own sessions. One at a time per process.
With the ledger key file readable here, its public key is the trusted one and a clean run signs the
verified heads; otherwise the public keys stored in the database are used (and the result says so).
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from storage import ledger_keys, ledger_verify

log = logging.getLogger(__name__)


class Verifier:
    def __init__(self, factory: sessionmaker[Session], key_path: Path | None) -> None:
        self.factory = factory
        self.key_path = key_path
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    def start(self, incremental: bool) -> bool:
        """Start a verification unless one is running; True if this call started it."""
        with self._lock:
            if self.running:
                return False
            self.thread = threading.Thread(target=self._run, args=(incremental,), name="ledger-verify", daemon=True)
            self.thread.start()
            return True

    def _run(self, incremental: bool) -> None:
        try:
            signer = self._signer()
            ledger_verify.run_verification(self.factory, signer=signer, incremental=incremental,
                                    trusted_keys=[signer.public_hex] if signer is not None else [])
        except Exception:
            log.exception("ledger verification failed")

    def _signer(self) -> ledger_keys.Signer | None:
        if self.key_path is None or not self.key_path.exists():
            return None
        try:
            return ledger_keys.load_key(self.key_path)
        except ledger_keys.LedgerKeyError:
            log.warning("ledger key %s unusable; verifying with the stored public keys", self.key_path)
            return None
