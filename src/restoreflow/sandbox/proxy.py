"""A fault-injecting proxy on loopback, between any Kubernetes client and any API server.

```python
from restoreflow.sandbox.proxy import FaultPlan, start_proxy

with start_proxy(cluster_url, latency=0.005) as proxy:              # bytes relayed, TLS included
    proxy.rewrite_kubeconfig("kubeconfig", "kubeconfig-proxied")
with start_proxy(sandbox.url, faults=FaultPlan(rate=0.1), seed=7) as proxy:
    ...                                                             # HTTP-level faults
    proxy.injected                                                  # Counter({"429": 12, "reset": 9, ...})
```

`Proxy` has `.url`, `.host`, `.port`, `.requests` (HTTP requests seen), `.injected` (faults by kind),
`.events` (each fault: kind, method, path) and `.rewrite_kubeconfig(source, dest)`, which points
every cluster of a kubeconfig at the proxy (with the proxy's certificate when it terminates TLS).

Two modes, chosen by the arguments:
- **TCP** (no `faults`): bytes pass through untouched, TLS included, so the client still sees the
  upstream's certificate (it must cover 127.0.0.1; the rewritten kubeconfig keeps the original host
  as `tls-server-name`). `latency` delays every client-to-server chunk, adding that much to each
  round trip without limiting throughput.
- **HTTP** (a `FaultPlan`, or `serve_tls` differing from the upstream's scheme): the proxy reads each
  HTTP/1.1 request and, with probability `FaultPlan.rate`, answers it with one of `FaultPlan.kinds`:
  `429` (with Retry-After), `500`, `503` (a Kubernetes Status, nothing forwarded), `reset` (the
  connection reset, nothing forwarded), `timeout` (held `FaultPlan.stall` seconds, past the client's
  timeout, then reset; nothing forwarded), `lost_answer` (forwarded and applied upstream, the answer
  read and thrown away, the connection reset: the retry of a create meets 409 AlreadyExists).
  Against an https upstream the proxy terminates TLS with a throwaway self-signed certificate and
  opens its own TLS connection upstream without verifying it, presenting `client_cert` (cert and key
  files) when the upstream wants one; bearer tokens pass through in the headers. Upgraded
  connections (exec) are relayed as bytes once the upstream answers 101.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import ipaddress
import json
import os
import random
import re
import socket
import ssl
import struct
import tempfile
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from restoreflow.sandbox.faults import CODES
from restoreflow.sandbox.status import ApiError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
KINDS = ("429", "500", "503", "reset", "timeout", "lost_answer")
CHUNK = 65536
HEAD_LIMIT = 1 << 20  # bytes of request/response head before the proxy gives up on a connection


@dataclass(frozen=True)
class FaultPlan:
    """Which requests fail and how: each matching request fails with probability `rate`."""

    rate: float = 0.1
    kinds: tuple[str, ...] = KINDS  # chosen uniformly; repeat a kind to weigh it more
    methods: frozenset[str] = frozenset()  # e.g. {"POST"}; empty: every method
    path: str = ""  # a regex searched in the request target (path and query); empty: every path
    retry_after: int = 1  # seconds, in the Retry-After of a 429
    stall: float = 3.0  # seconds a `timeout` fault holds a request: more than the client's timeout

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {', '.join(KINDS)}, not {unknown or 'none'}")
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be between 0 and 1, not {self.rate}")

    def matches(self, method: str, target: str) -> bool:
        return (not self.methods or method in self.methods) and (
            not self.path or re.search(self.path, target) is not None
        )


@dataclass(frozen=True)
class FaultEvent:
    kind: str
    method: str
    target: str


@dataclass
class Proxy:
    """A running proxy: where it listens, what it saw and what it injected."""

    host: str
    port: int
    scheme: str
    upstream: str
    ca_data: bytes | None = None  # the PEM certificate clients must trust when the proxy terminates TLS
    requests: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    events: list[FaultEvent] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def rewrite_kubeconfig(self, source: str | os.PathLike[str], dest: str | os.PathLike[str]) -> str:
        """Copy a kubeconfig with every cluster's server pointed at this proxy; the new path."""
        import yaml  # the kubernetes client's own YAML reader

        config = yaml.safe_load(Path(source).read_text()) or {}
        for entry in config.get("clusters") or []:
            cluster = entry.setdefault("cluster", {})
            original = urlsplit(str(cluster.get("server", "")))
            cluster["server"] = self.url
            if self.ca_data is not None:
                for key in ("certificate-authority", "insecure-skip-tls-verify", "tls-server-name"):
                    cluster.pop(key, None)
                cluster["certificate-authority-data"] = base64.b64encode(self.ca_data).decode()
            elif self.scheme == "https" and original.hostname and not _is_ip(original.hostname):
                cluster.setdefault("tls-server-name", original.hostname)
        Path(dest).write_text(json.dumps(config, indent=2))  # JSON is YAML
        return str(dest)


@contextlib.contextmanager
def start_proxy(
    upstream: str,
    *,
    latency: float = 0.0,
    faults: FaultPlan | None = None,
    seed: int = 0,
    serve_tls: bool | None = None,
    client_cert: tuple[str, str] | None = None,
) -> Iterator[Proxy]:
    """Run a proxy to `upstream` (http:// or https://host:port) on 127.0.0.1 in a background thread."""
    parts = urlsplit(upstream)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"upstream must be http(s)://host:port, not {upstream!r}")
    upstream_tls = parts.scheme == "https"
    serve_tls = upstream_tls if serve_tls is None else serve_tls
    http_mode = faults is not None or serve_tls != upstream_tls
    server_ssl, ca_data = _self_signed_context() if http_mode and serve_tls else (None, None)
    upstream_ssl = _upstream_context(client_cert) if http_mode and upstream_tls else None
    port = parts.port or (443 if upstream_tls else 80)
    proxy = Proxy("127.0.0.1", 0, "https" if serve_tls else "http", upstream, ca_data)
    relay = _Relay(proxy, parts.hostname, port, latency, faults if http_mode else None, seed, upstream_ssl)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def main() -> None:
        handler = relay.serve(relay.http if http_mode else relay.tcp)
        server = await asyncio.start_server(handler, proxy.host, 0, ssl=server_ssl, limit=HEAD_LIMIT)
        proxy.port = server.sockets[0].getsockname()[1]
        started.set()
        async with server:
            await stop.wait()
        for task in list(relay.tasks):
            task.cancel()
        await asyncio.gather(*relay.tasks, return_exceptions=True)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="proxy", daemon=True)
    thread.start()
    started.wait(10)
    try:
        yield proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


class _Relay:
    """The connection handlers; one per proxy, running on the proxy's event loop."""

    def __init__(
        self,
        proxy: Proxy,
        host: str,
        port: int,
        latency: float,
        faults: FaultPlan | None,
        seed: int,
        upstream_ssl: ssl.SSLContext | None,
    ) -> None:
        self.proxy, self.host, self.port, self.latency = proxy, host, port, latency
        self.faults = faults
        self.random = random.Random(seed)
        self.upstream_ssl = upstream_ssl
        self.tasks: set[asyncio.Task[Any]] = set()

    def serve(self, handler: Handler) -> Handler:
        """The handler, tracked so the proxy can stop it; stopping is the end of its connection."""

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.tasks.add(task)
            try:
                await handler(reader, writer)
            except asyncio.CancelledError:
                _close(writer)
            finally:
                self.tasks.discard(task)

        return tracked

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection(
            self.host,
            self.port,
            ssl=self.upstream_ssl,
            server_hostname=self.host if self.upstream_ssl else None,
            limit=HEAD_LIMIT,
        )

    # -- TCP mode ----------------------------------------------------------------------------------
    async def tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await self._connect()
        except OSError:
            _reset(writer)
            return
        try:
            await _both_ways(reader, writer, up_reader, up_writer, self.latency)
        finally:
            _close(up_writer)
            _close(writer)

    # -- HTTP mode ---------------------------------------------------------------------------------
    async def http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                head = await _read_head(reader)
                if head is None:
                    return
                method, target, headers = _parse_request(head)
                body = await _read_body(reader, headers, None)
                self.proxy.requests += 1
                kind = self._decide(method, target)
                if self.latency:
                    await asyncio.sleep(self.latency)
                if kind in ("429", "500", "503"):
                    writer.write(self._status_answer(int(kind)))
                    await writer.drain()
                    continue
                if kind in ("reset", "timeout"):
                    if kind == "timeout" and self.faults:
                        await asyncio.sleep(self.faults.stall)
                    _reset(writer)
                    return
                if upstream is None:
                    upstream = await self._connect()
                up_reader, up_writer = upstream
                up_writer.write(head + body)
                await up_writer.drain()
                answer = await _read_head(up_reader)
                if answer is None:
                    _reset(writer)
                    return
                status, answer_headers = _parse_response(answer)
                if kind == "lost_answer":
                    await _read_body(up_reader, answer_headers, None, method=method, status=status)
                    _reset(writer)
                    return
                writer.write(answer)
                if status == 101:
                    await _both_ways(reader, writer, up_reader, up_writer, 0.0)
                    return
                await _read_body(up_reader, answer_headers, writer, method=method, status=status)
                await writer.drain()
                if "close" in (answer_headers.get("connection", ""), headers.get("connection", "")):
                    return
        except (OSError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            _reset(writer)
        finally:
            if upstream is not None:
                _close(upstream[1])
            _close(writer)

    def _decide(self, method: str, target: str) -> str | None:
        plan = self.faults
        if plan is None or not plan.matches(method, target) or self.random.random() >= plan.rate:
            return None
        kind = self.random.choice(plan.kinds)
        self.proxy.injected[kind] += 1
        self.proxy.events.append(FaultEvent(kind, method, target))
        return kind

    def _status_answer(self, code: int) -> bytes:
        """The Status an overloaded or failing API server answers, as the sandbox's own faults do."""
        reason, message = CODES[code]
        retry_after = self.faults.retry_after if self.faults else 1
        details = {"retryAfterSeconds": retry_after} if code == 429 else None
        body = json.dumps(ApiError(code, reason, message, details).status()).encode()
        extra = f"Retry-After: {retry_after}\r\n" if code == 429 else ""
        head = (
            f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        )
        return head.encode() + body


# -- HTTP/1.1 framing -------------------------------------------------------------------------------
async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
    """The start line and headers (up to the blank line), or None at a clean end of stream."""
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as error:
        if not error.partial:
            return None
        raise
    except asyncio.LimitOverrunError:
        raise ValueError("head too long") from None


def _headers(lines: list[bytes]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    return headers


def _parse_request(head: bytes) -> tuple[str, str, dict[str, str]]:
    lines = head[:-4].split(b"\r\n")
    method, target, _version = lines[0].decode("latin-1").split(" ", 2)
    return method, target, _headers(lines[1:])


def _parse_response(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head[:-4].split(b"\r\n")
    return int(lines[0].split(b" ", 2)[1]), _headers(lines[1:])


async def _read_body(
    reader: asyncio.StreamReader,
    headers: dict[str, str],
    sink: asyncio.StreamWriter | None,
    *,
    method: str = "",
    status: int = 0,
) -> bytes:
    """Read one message body, copying it to `sink` as it comes (or returning it when there is none)."""
    kept = bytearray()

    async def emit(data: bytes) -> None:
        if sink is None:
            kept.extend(data)
        else:
            sink.write(data)
            await sink.drain()

    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return b""
    if "chunked" in headers.get("transfer-encoding", ""):
        while True:
            size_line = await reader.readuntil(b"\r\n")
            await emit(size_line)
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    await emit(trailer)
                await emit(b"\r\n")
                break
            await emit(await reader.readexactly(size + 2))
    elif "content-length" in headers:
        remaining = int(headers["content-length"])
        while remaining:
            data = await reader.readexactly(min(CHUNK, remaining))
            remaining -= len(data)
            await emit(data)
    elif status:  # a response without a length ends with its connection
        while data := await reader.read(CHUNK):
            await emit(data)
    return bytes(kept) if sink is None else b""


# -- bytes ------------------------------------------------------------------------------------------
async def _both_ways(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    latency: float,
) -> None:
    await asyncio.gather(
        _pipe(reader, up_writer, latency), _pipe(up_reader, writer, 0.0), return_exceptions=True
    )


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: float) -> None:
    """Copy until end of stream; with a delay, each chunk leaves `delay` seconds after it arrived."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def deliver() -> None:
        while (item := await queue.get()) is not None:
            due, data = item
            await asyncio.sleep(max(0.0, due - loop.time()))
            sink.write(data)
            await sink.drain()

    deliveries = asyncio.create_task(deliver())
    try:
        while data := await source.read(CHUNK):
            queue.put_nowait((loop.time() + delay, data))
    finally:
        queue.put_nowait(None)
        await deliveries
        _close(sink)


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST), as a crashed server or a middlebox would."""
    sock = writer.get_extra_info("socket")
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.close()


# -- TLS --------------------------------------------------------------------------------------------
def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _upstream_context(client_cert: tuple[str, str] | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the proxy is a test tool on loopback; the client verifies us
    if client_cert:
        context.load_cert_chain(*client_cert)
    return context


def _self_signed_context() -> tuple[ssl.SSLContext, bytes]:
    """A server context with a throwaway certificate for 127.0.0.1 and localhost; and that certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "restoreflow-proxy")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as scratch:  # load_cert_chain reads files only
        cert_path, key_path = Path(scratch, "tls.crt"), Path(scratch, "tls.key")
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        context.load_cert_chain(cert_path, key_path)
    return context, cert_pem
