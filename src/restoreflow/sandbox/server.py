"""The HTTP front of the sandbox (aiohttp): Kubernetes paths, verbs, codes and bodies, fault
injection, the request log, WebSocket exec, watch, and the `/_sandbox/...` inspection endpoints.

All API work runs on one event loop, so writes are applied one at a time, as etcd applies them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from restoreflow.sandbox import discovery, status
from restoreflow.sandbox.catalog import Target
from restoreflow.sandbox.cluster import Cluster
from restoreflow.sandbox.execution import CLOSE, ERROR, STDIN, Shell, check_exec, encode_status
from restoreflow.sandbox.faults import CODES, FaultRule, Faults
from restoreflow.sandbox.initial import initial_objects
from restoreflow.sandbox.options import SandboxOptions
from restoreflow.sandbox.patching import APPLY
from restoreflow.sandbox.selectors import field_matcher, label_matcher
from restoreflow.sandbox.store import Event
from restoreflow.sandbox.validation import FieldError, GoText, invalid

NAMESPACE_SUBRESOURCES = ("status", "finalize")
EXEC_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io")
METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


@dataclass
class RequestInfo:
    """What a request path addresses, as the API server's RequestInfoFactory reads it."""

    verb: str
    api_prefix: str = ""  # "api" | "apis" | "" for non-resource paths
    group: str = ""
    version: str = ""
    resource: str = ""
    namespace: str = ""
    name: str = ""
    subresource: str = ""

    @property
    def group_resource(self) -> str:
        return f"{self.resource}.{self.group}" if self.group and self.resource else self.resource


def parse_path(method: str, path: str, query: dict[str, str]) -> RequestInfo:
    parts = [p for p in path.split("/") if p]
    verb = METHOD_VERBS.get(method, "get")
    if not parts or parts[0] not in ("api", "apis"):
        return RequestInfo(verb)
    prefix, rest = parts[0], parts[1:]
    if prefix == "api":
        group, version, rest = "", (rest[0] if rest else ""), rest[1:]
    else:
        group = rest[0] if rest else ""
        version = rest[1] if len(rest) > 1 else ""
        rest = rest[2:]
    info = RequestInfo(verb, prefix, group, version)
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        info.namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    if not rest:
        return info
    info.resource = rest[0]
    info.name = rest[1] if len(rest) > 1 else ""
    info.subresource = rest[2] if len(rest) > 2 else ""
    if info.resource == "namespaces":
        info.namespace = ""
    if method == "GET" and not info.name:
        info.verb = "watch" if query.get("watch") in ("true", "1") else "list"
    elif method == "DELETE" and not info.name:
        info.verb = "deletecollection"
    return info


class SandboxServer:
    """One sandbox: the current cluster state, faults and request log behind an aiohttp app."""

    def __init__(self, options: SandboxOptions) -> None:
        self.initial = options
        self.cluster: Cluster | None = None
        self.faults = Faults(options.seed)
        self.log: list[dict[str, Any]] = []
        self.address = ""
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- state --------------------------------------------------------------------------------------

    def start_state(self) -> None:
        """Build the initial cluster; must run on the serving loop."""
        self._loop = asyncio.get_running_loop()
        self.reset()

    def reset(self, options: SandboxOptions | None = None) -> None:
        """A fresh cluster in its initial state; timers of the old one become no-ops."""
        if self.cluster is not None:
            self.cluster.alive = False
        opts = options or self.initial
        self.cluster = Cluster(opts, self._later)
        for obj in initial_objects(opts):
            self.cluster.load(obj)
        self.faults = Faults(opts.seed)
        for rule in opts.faults:
            self.faults.add(FaultRule.coerce(rule))
        self.log = []

    def _later(self, delay: float, fn: Any) -> None:
        assert self._loop is not None
        self._loop.call_later(delay, fn)

    @property
    def state(self) -> Cluster:
        assert self.cluster is not None
        return self.cluster

    # -- app ----------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/_sandbox/{op}", self.inspect)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Every API request: logged, maybe faulted, then served (errors as Status bodies)."""
        query = dict(request.query)
        info = parse_path(request.method, request.path, query)
        entry = _log_entry(request, info, query)
        self.log.append(entry)
        rule = self.faults.pick(info.verb, info.group_resource, info.namespace, info.name, info.subresource)
        if rule is not None and rule.latency:
            await asyncio.sleep(rule.latency)
        if rule is not None and rule.drop:
            if request.transport is not None:
                request.transport.abort()  # no answer at all; the log keeps code 0
            return web.Response(status=500)
        if rule is not None and rule.code is not None:
            response = _fault_response(rule)
        else:
            response = await self._answer(request, info, query)
        entry["code"] = response.status
        return response

    async def _answer(
        self, request: web.Request, info: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        try:
            return await self._serve(request, info, query)
        except status.PageNotFound:
            return web.Response(status=404, text="404 page not found\n", content_type="text/plain")
        except status.ApiError as err:
            return _json(err.code, err.status())
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as err:  # a sandbox bug still answers as an API server would
            logging.getLogger(__name__).exception("sandbox failed on %s %s", request.method, request.path)
            return _json(500, status.internal(f"{type(err).__name__}: {err}").status())

    async def _serve(
        self, request: web.Request, info: RequestInfo, query: dict[str, str]
    ) -> web.StreamResponse:
        cluster = self.state
        if not info.api_prefix:
            return self._non_resource(request)
        if not info.resource:
            return self._discovery(request, info)
        rtype = cluster.catalog.lookup(info.group, info.version, info.resource)
        if rtype is None:
            if discovery.resource_list(cluster.catalog, info.group, info.version) is None:
                raise status.PageNotFound()
            raise status.resource_not_found()
        if info.namespace and not rtype.namespaced:
            raise status.resource_not_found()
        if info.subresource and info.subresource not in rtype.subresources:
            raise status.resource_not_found()
        target = Target(
            rtype, info.version, info.namespace if rtype.namespaced else "", info.name, info.subresource
        )
        if info.subresource == "exec":
            return await self._exec(request, target, query)
        if info.subresource == "log" and info.verb == "get":
            _, pod = cluster.get(Target(rtype, info.version, target.namespace, info.name))
            _check_log_container(pod, query.get("container", ""))
            return web.Response(text="", content_type="text/plain")
        if info.verb == "watch":
            return await self._watch(request, target, query)
        dry_run = _dry_run(query, info.verb)
        body = await _body(request) if request.method in ("POST", "PUT", "PATCH") else None
        if isinstance(body, str) and request.content_type == APPLY:
            body = _yaml(body)
        if request.method == "DELETE" and request.can_read_body:
            body = await _body(request)
        code, result = self._dispatch(cluster, info, target, body, query, request.content_type, dry_run)
        return _json(code, result)

    def _dispatch(
        self,
        cluster: Cluster,
        info: RequestInfo,
        target: Target,
        body: Any,
        query: dict[str, str],
        content_type: str,
        dry_run: bool,
    ) -> tuple[int, dict[str, Any]]:
        verb = info.verb
        if info.subresource == "eviction" and verb == "create":
            return cluster.evict(target, body, dry_run)
        if info.subresource and verb not in ("get", "update", "patch"):
            raise status.method_not_allowed()
        if info.subresource == "scale":
            return cluster.scale(target, verb, body, content_type, dry_run)
        if info.subresource and info.subresource not in ("status",):
            raise status.method_not_allowed()
        if verb == "create":
            if info.name:
                raise status.method_not_allowed()
            return cluster.create(target, body, dry_run)
        if verb == "get":
            return cluster.get(target)
        if verb == "list":
            return cluster.list(target, query)
        if verb == "update":
            return cluster.update(target, body, dry_run)
        if verb == "patch":
            return cluster.patch(target, body, content_type, dry_run, query.get("fieldManager"))
        if verb == "delete":
            options = _delete_options(query, body)
            return cluster.delete(target, options, dry_run or _dry_run_option(options))
        if verb == "deletecollection":
            options = _delete_options(query, body)
            return cluster.delete_collection(target, query, dry_run or _dry_run_option(options), options)
        raise status.method_not_allowed()

    def _non_resource(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        if path == "/version":
            return _json(200, discovery.VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return web.Response(text="ok", content_type="text/plain")
        raise status.PageNotFound()

    def _discovery(self, request: web.Request, info: RequestInfo) -> web.Response:
        catalog = self.state.catalog
        if request.method != "GET":
            raise status.method_not_allowed()
        if info.api_prefix == "api":
            if not info.version:
                return _json(200, discovery.core_versions(self.address))
            document = discovery.resource_list(catalog, "", info.version)
        elif not info.group:
            return _json(200, discovery.group_list(catalog))
        elif not info.version:
            document = discovery.group(catalog, info.group)
        else:
            document = discovery.resource_list(catalog, info.group, info.version)
        if document is None:
            raise status.PageNotFound()
        return _json(200, document)

    # -- watch --------------------------------------------------------------------------------------

    async def _watch(self, request: web.Request, target: Target, query: dict[str, str]) -> web.StreamResponse:
        cluster = self.state
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"), target.rtype.group_resource)
        rtype = target.rtype

        def wanted(obj: dict[str, Any]) -> bool:
            meta = obj["metadata"]
            in_ns = not target.namespace or meta.get("namespace") == target.namespace
            return in_ns and labels(obj) and fields(obj)

        queue: asyncio.Queue[Event] = asyncio.Queue()
        backlog = self._watch_backlog(cluster, target, query.get("resourceVersion") or "", wanted)
        unsubscribe = cluster.store.subscribe(
            lambda ev: (
                queue.put_nowait(ev)
                if ev.rtype.resource == rtype.resource and ev.rtype.group == rtype.group and wanted(ev.obj)
                else None
            )
        )
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        deadline = time.monotonic() + float(query.get("timeoutSeconds") or 1800)
        try:
            for line in backlog:
                await response.write(line)
            while cluster.alive and (remaining := deadline - time.monotonic()) > 0:
                try:
                    event = await asyncio.wait_for(queue.get(), min(remaining, 1.0))
                except TimeoutError:
                    continue
                obj = cluster.served(rtype, event.obj, target.version)
                await response.write(_event_line(event.type, obj))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            unsubscribe()
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    def _watch_backlog(self, cluster: Cluster, target: Target, since: str, wanted: Any) -> list[bytes]:
        rtype = target.rtype
        if since in ("", "0"):
            return [
                _event_line("ADDED", cluster.served(rtype, obj, target.version))
                for obj in cluster.store.items(rtype, target.namespace or None)
                if wanted(obj)
            ]
        revision = int(since) if since.isdigit() else 0
        history = cluster.store.history
        if history and history[0].revision > revision + 1 and revision < cluster.store.revision:
            gone = status.gone(f"too old resource version: {since} ({history[0].revision - 1})").status()
            return [_event_line("ERROR", gone)]
        return [
            _event_line(e.type, cluster.served(rtype, e.obj, target.version))
            for e in history
            if e.revision > revision
            and e.rtype.resource == rtype.resource
            and e.rtype.group == rtype.group
            and wanted(e.obj)
        ]

    # -- exec ---------------------------------------------------------------------------------------

    async def _exec(self, request: web.Request, target: Target, query: dict[str, str]) -> web.StreamResponse:
        pod = self.state.store.get(target.rtype, target.namespace, target.name)
        check_exec(pod, target.name, query.get("container", ""))
        if request.headers.get("Upgrade", "").lower() != "websocket":
            raise status.bad_request("Upgrade request required")
        argv = request.query.getall("command", [])
        ws = web.WebSocketResponse(protocols=EXEC_PROTOCOLS)
        await ws.prepare(request)

        async def write(channel: int, text: str) -> None:
            await ws.send_bytes(bytes([channel]) + text.encode())

        stdin: asyncio.Queue[str | None] = asyncio.Queue()
        if query.get("stdin") not in ("true", "1"):
            stdin.put_nowait(None)
        shell = Shell(write, hostname=target.name, stdin=stdin)
        command = asyncio.ensure_future(shell.run(argv))
        reader = asyncio.ensure_future(_read_stdin(ws, stdin))
        done, _ = await asyncio.wait({command, reader}, return_when=asyncio.FIRST_COMPLETED)
        if command in done:
            with contextlib.suppress(ConnectionResetError):
                await write(ERROR, encode_status(command.result()))
                await ws.close()
        command.cancel()
        reader.cancel()
        return ws

    # -- inspection ---------------------------------------------------------------------------------

    async def inspect(self, request: web.Request) -> web.Response:
        """`/_sandbox/{objects,object,load,requests,faults,configure,reset,options}` for the handle."""
        op = request.match_info["op"]
        query = request.query
        body = await request.json() if request.can_read_body else None
        cluster = self.state
        try:
            if op == "objects":
                return _json(200, self._objects(query.get("resource"), query.get("namespace")))
            if op == "object":
                obj = cluster.find(query["resource"], query.get("namespace", ""), query["name"])
                return _json(200 if obj else 404, obj or {})
            if op == "load":
                return _json(200, [cluster.load(obj) for obj in body])
            if op == "requests":
                if request.method == "DELETE":
                    self.log = []
                return _json(200, self.log)
            if op == "faults":
                if request.method == "DELETE":
                    self.faults.clear()
                else:
                    self.faults.add(FaultRule.coerce(body))
                return _json(200, [rule.to_dict() for rule, _ in self.faults.rules])
            if op == "configure":
                cluster.options = cluster.options.updated(**body)
                cluster.allocations.port_range = cluster.options.port_range()
                return _json(200, cluster.options.to_dict())
            if op == "options":
                return _json(200, cluster.options.to_dict())
            if op == "reset":
                self.reset(self.initial.updated(**(body or {})))
                return _json(200, {})
        except (KeyError, TypeError, ValueError) as err:
            return _json(400, {"error": str(err)})
        return _json(404, {"error": f"unknown inspection endpoint {op}"})

    def _objects(self, resource: str | None, namespace: str | None) -> list[dict[str, Any]]:
        cluster = self.state
        if resource:
            rtype = cluster.catalog.by_group_resource(resource)
            if rtype is None:
                return []
            types = [rtype]
        else:
            types = list(cluster.catalog.types.values())
        found = []
        for rtype in types:
            found += cluster.store.items(
                rtype, namespace if rtype.namespaced and namespace is not None else None
            )
        if namespace is not None and not resource:
            found = [o for o in found if o["metadata"].get("namespace", "") == namespace]
        return found


def _log_entry(request: web.Request, info: RequestInfo, query: dict[str, str]) -> dict[str, Any]:
    return {
        "method": request.method,
        "verb": info.verb,
        "path": request.path_qs,
        "resource": info.group_resource,
        "namespace": info.namespace,
        "name": info.name,
        "subresource": info.subresource,
        "dry_run": query.get("dryRun") == "All",
        "code": 0,
        "time": time.time(),
    }


def _check_log_container(pod: dict[str, Any], container: str) -> None:
    """pods/log needs a container name when the pod has several, and one the pod has."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    init = [c.get("name", "") for c in spec.get("initContainers") or []]
    name = pod["metadata"]["name"]
    if container and container not in names + init:
        raise status.bad_request(f"container {container} is not valid for pod {name}")
    if not container and len(names) > 1:
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise status.bad_request(message)


def _fault_response(rule: FaultRule) -> web.Response:
    """The Status an overloaded or failing API server answers (429 with Retry-After, 5xx)."""
    assert rule.code is not None
    reason, message = CODES[rule.code]
    details: dict[str, Any] = {}
    headers = {}
    if rule.code == 429:
        details = {"retryAfterSeconds": rule.retry_after}
        headers["Retry-After"] = str(rule.retry_after)
    return _json(rule.code, status.ApiError(rule.code, reason, message, details).status(), headers)


async def _read_stdin(ws: web.WebSocketResponse, stdin: asyncio.Queue[str | None]) -> None:
    """Feed channel 0 to the command; return when the client closes (a v5 close of 0 ends stdin)."""
    async for msg in ws:
        if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
            data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
            if data[:1] == bytes([STDIN]):
                stdin.put_nowait(data[1:].decode(errors="replace"))
            elif data[:2] == bytes([CLOSE, STDIN]):
                stdin.put_nowait(None)
        elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
            break
    stdin.put_nowait(None)


def _json(code: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        status=code,
        body=json.dumps(body, separators=(",", ":")).encode(),
        content_type="application/json",
        headers=headers,
    )


def _event_line(kind: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": kind, "object": obj}, separators=(",", ":")).encode() + b"\n"


DELETE_QUERY = ("propagationPolicy", "orphanDependents", "gracePeriodSeconds")


def _delete_options(query: dict[str, str], body: Any) -> dict[str, Any]:
    """DeleteOptions from the query string and the body (the body wins)."""
    options: dict[str, Any] = {k: query[k] for k in DELETE_QUERY if k in query}
    return options | (body if isinstance(body, dict) else {})


OPTIONS_KINDS = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
    "deletecollection": "DeleteOptions",
}


def _dry_run_option(options: dict[str, Any]) -> bool:
    """DeleteOptions.dryRun in a body (`["All"]`)."""
    values = options.get("dryRun") or []
    return _checked_dry_run("delete", values if isinstance(values, list) else [values])


def _dry_run(query: dict[str, str], verb: str) -> bool:
    value = query.get("dryRun")
    return _checked_dry_run(verb, [value] if value else [])


def _checked_dry_run(verb: str, values: list[str]) -> bool:
    """Only `All` is a dry-run value; others are refused as the options' validation refuses them."""
    kind = OPTIONS_KINDS.get(verb)
    if kind is None or not values:
        return False
    if any(v != "All" for v in values):
        shown = json.dumps(values, separators=(",", ":"))
        error = FieldError("FieldValueNotSupported", "dryRun", GoText(shown), 'supported values: "All"')
        raise invalid(f"{kind}.meta.k8s.io", "meta.k8s.io", "", [error])
    return True


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as err:
        if request.content_type == APPLY:
            return raw.decode(errors="replace")
        raise status.bad_request(f"couldn't get version/kind; json parse error: {err}") from None


def _yaml(text: str) -> Any:
    """An apply configuration sent as YAML text (JSON bodies are parsed before)."""
    from ruamel.yaml import YAML, YAMLError

    try:
        return YAML(typ="safe").load(text)
    except YAMLError as err:
        raise status.bad_request(f"error decoding YAML: {err}") from None
