"""Tamper evidence and ``verify`` (kept for old imports: the chain is :mod:`qingdan.core.chain`,
the scan of the log :mod:`qingdan.core.logscan`, the audit :mod:`qingdan.core.audit`)."""

from .audit import Sources, VerifyReport, verify
from .chain import GENESIS, TamperDetected, chain_batch, chain_head, event_hash, stored_bytes
from .logscan import LogScan, Problem, check_chain

__all__ = ["GENESIS", "LogScan", "Problem", "Sources", "TamperDetected", "VerifyReport", "chain_batch",
           "chain_head", "check_chain", "event_hash", "stored_bytes", "verify"]
