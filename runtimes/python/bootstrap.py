"""lb's bundled Python runtime: `python3 -u runtimes/python/bootstrap.py`.

lb starts it with Lambda's environment (AWS_LAMBDA_RUNTIME_API, _HANDLER,
LAMBDA_TASK_ROOT, ...). It imports the handler and serves invocations over the Lambda
Runtime API the way AWS's Python runtime (awslambdaric) does: the same context object,
error shapes and error types, logging setup and JSON encoding. Standard library only;
runs on Python 3.8 and later. See ../README.md.
"""

import decimal
import importlib
import json
import logging
import os
import re
import site
import socket
import sys
import time
import traceback
from urllib.parse import quote

_BASE = "/2018-06-01/runtime"
_USER_AGENT = "lb-runtime-python/%d.%d.%d" % sys.version_info[:3]
_THIS_FILE = os.path.abspath(__file__)

# Error types, as awslambdaric's FaultException names them.
# AWS's runtime logs this warning (a WARNING record, ending in "\r") before an init error.
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r")
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"


class FaultException(Exception):
    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.exception_type = exception_type
        self.msg = msg
        self.trace = trace


def _say(line):
    sys.stderr.write("lb runtime (python): %s\n" % line)


# --------------------------------------------------------------------------------------
# Runtime API client: one keep-alive HTTP/1.1 connection with TCP_NODELAY; each request
# (request line, headers and body) leaves in one sendall(). No timeouts: /next waits as
# long as it takes.
#
# Per invocation it does as little as it can: the fixed part of every request is built
# once, answers are received into one buffer allocated once (a fresh 256 kB bytes per
# recv() cost an mmap, an mremap and a munmap each time), and the head is decoded once.
# The /next that follows a result is pipelined: written in the same send as the post
# (lb's Runtime API answers a connection's requests in order), so an invocation costs
# one send, not two.

_RECV_SIZE = 262144
# Request ids made of these need no percent-encoding (lb's are UUIDs).
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")


class ApiGone(Exception):
    """The Runtime API refused or dropped the connection."""


class _Closed(Exception):
    pass


class RuntimeClient:
    def __init__(self, address):
        if not address:
            raise RuntimeError("AWS_LAMBDA_RUNTIME_API is not set")
        if address.startswith("["):
            host, _, port = address[1:].partition("]:")
        else:
            host, _, port = address.rpartition(":")
        self.addr = (host, int(port))
        self.host_header = address
        self.sock = None
        self.buf = bytearray()
        self._next_sent = False  # a /next went out with the last post, unanswered
        self._rbuf = memoryview(bytearray(_RECV_SIZE))
        # "Host" and "User-Agent", the same on every request.
        self._fixed = "\r\nHost: %s\r\nUser-Agent: %s\r\n" % (address, _USER_AGENT)
        self._next = ("GET %s/invocation/next HTTP/1.1%s\r\n"
                      % (_BASE, self._fixed)).encode("latin-1")

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = bytearray()
        self._next_sent = False

    def _connect(self):
        try:
            self.sock = socket.create_connection(self.addr)
        except OSError as e:
            raise ApiGone(e.strerror or str(e)) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def _fill(self):
        n = self.sock.recv_into(self._rbuf)
        if not n:
            raise _Closed()
        self.buf += self._rbuf[:n]

    def request(self, method, path, body=None, headers=(), then_next=False):
        """One exchange: returns (status, {lower-case name: value}, body bytes).

        A request that fails on a reused connection before any byte of the answer arrived
        (the server closed the idle connection) is sent again on a fresh one.
        """
        head = "%s %s HTTP/1.1%s" % (method, path, self._fixed)
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        for name, value in headers:
            head += "%s: %s\r\n" % (name, value)
        data = (head + "\r\n").encode("latin-1")
        if body:
            data += body
        if not then_next:
            return self._exchange(method, data)
        answer = self._exchange(method, data + self._next)
        # Unless the connection closed with that answer, the /next is on its way.
        self._next_sent = self.sock is not None
        return answer

    def _exchange(self, method, data):
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self._connect()
            started = False
            try:
                self.sock.sendall(data)
                started = bool(self.buf)
                return self._read_response(method)
            except (OSError, _Closed) as e:
                started = started or bool(self.buf)
                self.close()
                if reused and not started and attempt == 0:
                    continue
                raise ApiGone(getattr(e, "strerror", None) or "connection closed") from None

    def _read_response(self, method):
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            self._fill()
        lines = self.buf[:end].decode("latin-1").split("\r\n")
        del self.buf[:end + 4]
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if 100 <= status < 200:
            return self._read_response(method)
        if method == "HEAD" or status in (204, 304):
            body = b""
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked()
        elif "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            if len(self.buf) == n:  # the usual case: the answer ends the input
                body = bytes(self.buf)
                self.buf.clear()
            else:
                body = bytes(self.buf[:n])
                del self.buf[:n]
        else:  # delimited by the end of the connection
            try:
                while True:
                    self._fill()
            except _Closed:
                pass
            body = bytes(self.buf)
            self.close()
            return status, headers, body
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _read_chunked(self):
        out = bytearray()
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            i = self.buf.find(b"\r\n")
            size = int(bytes(self.buf[:i]).split(b";")[0], 16)
            del self.buf[:i + 2]
            if size == 0:
                while True:  # trailers, up to the empty line
                    while b"\r\n" not in self.buf:
                        self._fill()
                    i = self.buf.find(b"\r\n")
                    del self.buf[:i + 2]
                    if i == 0:
                        return bytes(out)
            while len(self.buf) < size + 2:
                self._fill()
            out += self.buf[:size]
            del self.buf[:size + 2]

    def next(self):
        if self._next_sent:
            self._next_sent = False
            try:
                return self._read_response("GET")
            except (OSError, _Closed) as e:
                started = bool(self.buf)
                self.close()
                if started:
                    raise ApiGone(getattr(e, "strerror", None) or "connection closed") from None
            # Nothing of its answer came: asked again on a fresh connection.
        return self._exchange("GET", self._next)

    def post_response(self, invoke_id, body, content_type="application/json", then_next=False):
        return self.request("POST", "%s/invocation/%s/response" % (_BASE, _quote(invoke_id)),
                            body, [("Content-Type", content_type)], then_next)

    def post_error(self, invoke_id, error, then_next=False):
        return self.request("POST", "%s/invocation/%s/error" % (_BASE, _quote(invoke_id)),
                            _error_body(error), _error_headers(error), then_next)

    def post_init_error(self, error):
        return self.request("POST", _BASE + "/init/error", _error_body(error),
                            _error_headers(error))


def _quote(s):
    return s if _UNRESERVED.fullmatch(s) else quote(s, safe="")


def _error_body(error):
    return json.dumps(error).encode("utf-8")


def _error_headers(error):
    etype = error.get("errorType") or ""
    if not (0 < len(etype) <= 200 and all(" " <= c <= "~" for c in etype)):
        etype = "Unhandled"
    return [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", etype)]


# --------------------------------------------------------------------------------------
# Context object, as awslambdaric's LambdaContext.


class CognitoIdentity:
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return ("CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])"
                % (self.cognito_identity_id, self.cognito_identity_pool_id))


class Client:
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code",
                 "app_package_name"]


class ClientContext:
    __slots__ = ["custom", "env", "client"]


def _make_obj(cls, d):
    if d is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, d.get(field))
    return obj


class LambdaContext:
    def __init__(self, invoke_id, client_context, cognito_identity, epoch_deadline_time_in_ms,
                 invoked_function_arn=None, tenant_id=None):
        env = os.environ
        self.aws_request_id = invoke_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        # A string, as in AWS's Python runtime (awslambdaric reads the variable as is).
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = _make_obj(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _make_obj(Client, self.client_context.client)
        self.identity = _make_obj(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get(
                "cognitoIdentityPoolId")
        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return ("LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
                "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
                "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
                % (self.aws_request_id, self.log_group_name, self.log_stream_name,
                   self.function_name, self.memory_limit_in_mb, self.function_version,
                   self.invoked_function_arn, self.client_context, self.identity,
                   self.tenant_id))


# --------------------------------------------------------------------------------------
# Logging and output, as AWS sets them up: stdout/stderr unbuffered, the root logger
# with one handler writing "[LEVEL]\t<UTC time>.<ms>Z\t<request id>\t<message>".

_request_id = None


class Unbuffered:
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


class LambdaLoggerHandler(logging.Handler):
    def emit(self, record):
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


class LambdaLoggerFilter(logging.Filter):
    def filter(self, record):
        record.aws_request_id = _request_id or ""
        record.tenant_id = None
        return True


# logging_config (AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL), as AWS's runtime reads it.
_JSON_LOGS = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
_LEVELS = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
           "WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL}
# Python's names as Lambda's JSON logs spell them.
_JSON_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}
# LogRecord's own attributes: anything else on a record came from `extra=` and is logged.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "aws_request_id", "tenant_id"}


class JsonFormatter(logging.Formatter):
    """AWS's JSON application log record: timestamp, level, message, logger, requestId,
    the exception's errorType/errorMessage/stackTrace, and any `extra=` fields."""

    def __init__(self):
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")

    def format(self, record):
        result = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": _JSON_LEVEL_NAMES.get(record.levelname, record.levelname),
            "message": record.getMessage(),
            "logger": record.name,
            "requestId": getattr(record, "aws_request_id", None) or None,
        }
        if record.exc_info and record.exc_info[0]:
            etype, value, tb = record.exc_info
            result["errorType"] = etype.__name__
            result["errorMessage"] = str(value)
            result["stackTrace"] = traceback.format_tb(tb)
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRS and key not in result:
                result[key] = value
        return json.dumps({k: v for k, v in result.items() if v is not None}, default=str,
                          ensure_ascii=False) + "\n"


def _setup_logging():
    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if _JSON_LOGS:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(LambdaLoggerFilter())
    logging.getLogger().addHandler(handler)
    # AWS's runtime sets the root logger's level from the configured application level
    # (INFO by default with JSON logs), so logger.info shows without setLevel there.
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in _LEVELS:
        logging.getLogger().setLevel(_LEVELS[level])


def _log_error(error):
    """An error the runtime reports, logged as AWS's runtime logs it."""
    if _JSON_LOGS:
        if logging.getLogger().isEnabledFor(logging.ERROR):
            record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                      "level": "ERROR",
                      "message": ": ".join(x for x in (error.get("errorType"),
                                                       error.get("errorMessage")) if x),
                      "logger": "root", "requestId": _request_id or None,
                      "errorType": error.get("errorType"),
                      "errorMessage": error.get("errorMessage"),
                      "stackTrace": error.get("stackTrace")}
            sys.stdout.write(json.dumps({k: v for k, v in record.items() if v is not None},
                                        ensure_ascii=False) + "\n")
        return
    desc = "[ERROR]"
    if error.get("errorType"):
        desc += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            desc += ":"
        desc += " " + error["errorMessage"]
    lines = [desc]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            lines.extend(element.splitlines() if element else [""])
    sys.stdout.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------
# Handler loading and invocation.


def make_error(message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    """Traceback entries, from the first frame outside this file."""
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if os.path.abspath(frame[0]) != _THIS_FILE:
            return frames[i:]
    return frames


def _fault_result(exc_info, invoke_id=None):
    etype, value, tb = exc_info
    return make_error(str(value), etype.__name__, traceback.format_list(_user_frames(tb)),
                      invoke_id)


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(BUILT_IN_MODULE_CONFLICT,
                                 "Cannot use built-in module %s as a handler module" % modname)
        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(IMPORT_MODULE_ERROR,
                             "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(USER_CODE_SYNTAX_ERROR,
                             "Syntax error in module '%s': %s" % (modname, e), trace)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(HANDLER_NOT_FOUND,
                             "Handler '%s' missing on module '%s'" % (fname, modname))


class _Encoder(json.JSONEncoder):
    # AWS encodes decimal.Decimal as its exact number; the standard library cannot emit
    # raw numbers, so integral values become int and others float.
    def default(self, o):
        if isinstance(o, decimal.Decimal):
            if o.is_nan():
                return float("nan")
            if o == o.to_integral_value():
                return int(o)
            return float(o)
        return super().default(o)


_encoder = _Encoder()


def _parse_json_header(value, name):
    # Heads are read as Latin-1, byte for byte; a JSON header's text is UTF-8 (a client
    # context's app title may be "Café"): json.loads reads the bytes as UTF-8.
    if not value:
        return None
    try:
        return json.loads(value.encode("latin-1"))
    except Exception as e:
        raise FaultException(LAMBDA_CONTEXT_UNMARSHAL_ERROR,
                             "Unable to parse %s JSON: %s" % (name, e))


def handle_event(client, request_handler, invoke_id, headers, body):
    """Runs one invocation and posts its result or error."""
    error = None
    try:
        try:
            deadline = int(headers.get("lambda-runtime-deadline-ms") or 0)
        except ValueError:
            deadline = 0
        context = LambdaContext(
            invoke_id,
            _parse_json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
            _parse_json_header(headers.get("lambda-runtime-cognito-identity"),
                               "Cognito Identity"),
            deadline,
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"))
        content_type = headers.get("content-type")
        if content_type is None or content_type.split(";")[0].strip() == "application/json":
            try:
                event = json.loads(body)
            except Exception as e:
                raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        else:
            event = body
        response = request_handler(event, context)
        if isinstance(response, bytes):
            result, result_type = response, "application/unknown"
        else:
            try:
                result = _encoder.encode(response).encode("utf-8")
            except Exception as e:
                raise FaultException(MARSHAL_ERROR, "Unable to marshal response: %s" % e)
            result_type = "application/json"
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        error = _fault_result(sys.exc_info(), invoke_id)

    if error is not None:
        _log_error(error)
        status, _, answer = client.post_error(invoke_id, error, then_next=True)
    else:
        status, _, answer = client.post_response(invoke_id, result, result_type, then_next=True)
    if not 200 <= status <= 299:
        _say("Runtime API answered %d to a result: %r" % (status, answer[:500]))


def _set_sys_path(task_root):
    """sys.path in AWS's order: the task root, then the layers' paths, then the rest.

    lb puts a function's layers on PYTHONPATH (<layers>/python/lib/python3.N/site-packages,
    then <layers>/python), which Python places after the script's directory; that directory
    (this runtime's own) is dropped, as AWS's /var/runtime comes after /opt/python. As AWS's
    bootstrap adds the /opt paths with site.addsitedir, the layers' .pth files are read.
    """
    if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(_THIS_FILE):
        del sys.path[0]
    if task_root not in sys.path[:1]:
        sys.path.insert(0, task_root)
    layers = os.environ.get("LB_LAYERS_DIR")
    if layers:
        for entry in [p for p in sys.path if p.startswith(layers + os.sep)]:
            site.addsitedir(entry)


class _TraceIdEnv:
    """Sets _X_AMZN_TRACE_ID for each invocation, as Lambda's runtimes do ("Propagate the
    tracing header", AWS's custom runtime guide), without a leak.

    os.environ[...] = v calls libc's setenv(), and glibc keeps every value ever set for
    the life of the process: with a new trace header per invocation a sandbox grew some
    150 bytes per invocation until memory_size killed it. So from the 1,000th invocation
    on (importing ctypes costs some 5 ms, which a short-lived sandbox need not pay; the
    first thousand keep about 150 kB), the variable is one buffer of this runtime's, put in
    the environment with putenv() (which keeps the caller's string, copies nothing) and
    rewritten in place, and os.environ's own mapping is updated without a setenv().
    Children and native code see the variable as before. Without ctypes, or for a header
    longer than the buffer, os.environ is used as before.
    """

    NAME = "_X_AMZN_TRACE_ID"
    _PREFIX = NAME.encode() + b"="
    _CAP = 1024
    _SWITCH = 1000

    def __init__(self):
        self._count = 0
        self._putenv = None

    def _use_buffer(self):
        try:
            import ctypes
            self._putenv = ctypes.CDLL(None).putenv
            self._buf = ctypes.create_string_buffer(len(self._PREFIX) + self._CAP + 1)
            self._data = os.environ._data
            self._key = os.environ.encodekey(self.NAME)
        except (ImportError, OSError, AttributeError):
            self._putenv = None

    def set(self, value):
        self._count += 1
        if self._count == self._SWITCH:
            self._use_buffer()
        if not value:
            os.environ.pop(self.NAME, None)
            return
        raw = os.fsencode(value)
        if self._putenv is None or len(raw) > self._CAP or b"\0" in raw:
            os.environ[self.NAME] = value
            return
        self._buf.value = self._PREFIX + raw
        # again each time: the handler may have set or removed the variable itself
        self._putenv(self._buf)
        self._data[self._key] = raw


def main():
    global _request_id
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _set_sys_path(os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd())
    client = RuntimeClient(os.environ.get("AWS_LAMBDA_RUNTIME_API"))
    _setup_logging()
    trace_env = _TraceIdEnv()

    try:
        request_handler = get_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        if isinstance(e, FaultException):
            error = make_error(e.msg, e.exception_type, e.trace)
        else:
            error = _fault_result(sys.exc_info())
        logging.warning(UNHANDLED_WARNING)
        _log_error(error)
        try:
            client.post_init_error(error)
        except ApiGone as gone:
            _say("Runtime API unavailable during init/error (%s)" % gone)
        sys.exit(1)

    while True:
        try:
            status, headers, body = client.next()
        except ApiGone as gone:
            _say("Runtime API unavailable during /next (%s); exiting" % gone)
            sys.exit(0)
        if status != 200:
            _say("/next answered %d: %r; exiting" % (status, body[:500]))
            sys.exit(1)
        invoke_id = headers.get("lambda-runtime-aws-request-id")
        if not invoke_id:
            _say("the Runtime API sent an event without Lambda-Runtime-Aws-Request-Id")
            sys.exit(1)
        _request_id = invoke_id
        trace_env.set(headers.get("lambda-runtime-trace-id"))
        try:
            handle_event(client, request_handler, invoke_id, headers, body)
        except ApiGone as gone:
            _say("Runtime API unavailable while posting a result (%s); exiting" % gone)
            sys.exit(0)


if __name__ == "__main__":
    main()
