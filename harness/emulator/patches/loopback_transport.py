"""MiniStack patch ``loopback_transport``: a request over loopback counts as sent over TLS.

A policy that denies requests without TLS (``"Condition": {"Bool": {"aws:SecureTransport": "false"}}``,
what AWS recommends for every bucket, queue and topic) would refuse every local request: the emulator
speaks plain HTTP, and under ``AUTH=true`` upstream sets ``aws:SecureTransport`` from the scheme. Here
a request never leaves the machine (the emulator listens on 127.0.0.1 only and ``loopback_hosts``
refuses any other Host), which is the guarantee TLS gives on AWS, so the key is ``true`` for a loopback
peer; a peer elsewhere keeps upstream's answer. The template's TLS-only statements stay as they are
(and are tested on the transformed template), locally and on AWS.
"""

from __future__ import annotations

import ipaddress


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def install() -> None:
    from ministack import app as ministack_app

    original = ministack_app.pin_request_origin

    def pin_request_origin(source_ip: str, secure_transport: bool) -> None:
        original(source_ip, secure_transport or is_loopback(source_ip))

    ministack_app.pin_request_origin = pin_request_origin
