"""The useful part of any failure, known issue or not.

Owns reading failure lines in order and keeping what a person needs first: the first real error
(past log4j chatter, JVM warnings and ``Exception in thread "main"`` wrappers; a Python
traceback's exception line too), the root
``Caused by`` of its chain, the HTTP status, verb and resource of the API call that failed (from
fabric8's ``Failure executing: PATCH at: ...`` and ``Received status: Status(code=500, ...)``, its
4.x ``Operation: [create] for kind: [Pod]``, and the Go client's ``pods "x" is forbidden``
wording), container exits (OOMKilled, exit codes, evictions, image pulls), event warnings and the
SparkApplication's state. Memory is bounded: a few chains, a few signals. It knows no issue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from kubespark.doctor.lines import Line

__all__ = ["FAILURE_FRAGMENTS", "ApiCall", "ErrorChain", "FailureSummary", "FailureTracker"]

# Every failure line holds one of these (case as written by Spark, fabric8, Go and kubectl).
FAILURE_FRAGMENTS = (
    "Exception",
    "Error",
    "ERROR",
    "error",
    "FATAL",
    "Caused by",
    "Failure executing",
    "Received status",
    "Operation: [",
    "failed",
    "Failed",
    "FAILED",
    "forbidden",
    "Forbidden",
    "Unauthorized",
    "OOMKilled",
    "Evicted",
    "BackOff",
    "ErrImagePull",
    "Exit Code",
    "ExitCode",
    "exitCode",
    "exit code",
    "is invalid",
    "could not find the requested resource",
    "no matches for kind",
    "Warning",
    "already exists",
)

MAX_CHAINS = 5
MAX_SIGNALS = 12

_LEVEL = re.compile(
    r"(?:^|[\s\[|(])(?P<level>TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|SEVERE)(?=[\s\]|:)]|$)"
)
_GLOG = re.compile(r"^(?P<level>[IWEF])\d{4} \d\d:\d\d:\d\d")
_JSON_LEVEL = re.compile(r'"level"\s*:\s*"(?P<level>\w+)"')
_GLOG_LEVELS = {"I": "INFO", "W": "WARN", "E": "ERROR", "F": "FATAL"}
_NOISE = re.compile(
    r"WARNING: An illegal reflective access|WARNING: Illegal reflective access|"
    r"WARNING: Please consider reporting|WARNING: Use --illegal-access|"
    r"WARNING: All illegal access|log4j:WARN|Using Spark's default log4j profile|"
    r"NativeCodeLoader: Unable to load native-hadoop"
)
_CLASS = r"(?:[a-zA-Z_$][\w$]*\.)+[A-Z][\w$]*(?:Exception|Error|Failure|Throwable)"
_THREAD_WRAPPER = re.compile(r'Exception in thread "[^"]*"\s+')
_EXCEPTION = re.compile(rf"(?:^|\s)(?P<cls>{_CLASS})(?::\s*(?P<msg>.*))?$")
# The last line of a Python traceback (a PySpark driver's), unindented: ``ValueError: ...``.
_PYTHON_EXCEPTION = re.compile(
    r"^(?P<cls>(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception)): (?P<msg>.*)$"
)
_CAUSED_BY = re.compile(rf"^\s*Caused by:\s*(?P<cls>{_CLASS})(?::\s*(?P<msg>.*))?$")
_FRAME = re.compile(r"^\s+(?:at\s|\.\.\.\s\d+\s(?:more|common))")
_FAILURE_EXECUTING = re.compile(
    r"Failure executing: (?P<verb>[A-Z]+) at: (?P<url>\S+?)\.?(?:\s+Message: (?P<msg>.*))?$"
)
# kubespark's own report of a refused request (``submit``, the operator): verb, path, status.
_KUBESPARK_CALL = re.compile(
    r"\b(?P<verb>GET|POST|PUT|PATCH|DELETE) (?P<url>/\S+?): HTTP (?P<code>\d{3})"
    r"(?: (?P<reason>[A-Z]\w*))?(?:: (?P<msg>.*))?$"
)
_RECEIVED_STATUS = re.compile(r"Received status: Status\((?P<body>.*)")
_STATUS_CODE = re.compile(r"\bcode=(?P<code>\d{3})\b")
_STATUS_REASON = re.compile(r"\breason=(?P<reason>[A-Z]\w+)")
_OPERATION = re.compile(
    r"Operation: \[(?P<verb>\w+)\]\s+for kind: \[(?P<kind>\w+)\]\s+with name: \[(?P<name>[^\]]*)\]"
    r"(?:\s+in namespace: \[(?P<ns>[^\]]*)\])?\s+failed"
)
_FORBIDDEN = re.compile(
    r'(?:User "(?P<user>[^"]+)" )?cannot (?P<verb>\w+)(?: resource)? "?(?P<res>[\w.-]+)"?'
)
_GO_FORBIDDEN = re.compile(r'(?P<res>[\w.-]+)(?: "(?P<name>[^"]*)")? is forbidden: (?P<msg>.*)')
_NOT_FOUND = re.compile(
    r"the server could not find the requested resource \((?P<verb>\w+) (?P<res>[\w.-]+)\)"
)
_INVALID = re.compile(r'(?P<kind>[A-Z][\w.]*) "(?P<name>[^"]+)" is invalid: (?P<msg>.*)')
_NO_MATCH = re.compile(r'no matches for kind "(?P<kind>\w+)" in version "(?P<gv>[^"]+)"')
_ALREADY = re.compile(r'(?P<res>[\w.-]+) "(?P<name>[^"]+)" already exists')
_UNAUTHORIZED = re.compile(r"\bUnauthorized\b")
_EXIT = re.compile(
    r"(?:exited with exit code|Exit Code:|ExitCode:|exitCode:|exit code:)\s*(?P<code>-?\d+)"
    r"(?:[^\n]*?Reason: (?P<reason>\w+))?"
)
_CONTAINER_REASON = re.compile(
    r"\b(?P<reason>OOMKilled|Evicted|ErrImagePull|ImagePullBackOff|CrashLoopBackOff|"
    r"CreateContainerConfigError|ContainerCannotRun|DeadlineExceeded)\b"
)
_EVENT_WARNING = re.compile(r"(?:^|\s)Warning\s+(?P<reason>[A-Z]\w+)\s+(?P<rest>.*)$")
_APP_STATE = re.compile(
    r"(?:State|state|\"state\")\s*[:=]\s*\"?(?P<state>SUBMISSION_FAILED|FAILED|FAILING|"
    r"INVALIDATING|UNKNOWN)\b"
)
_APP_ERROR = re.compile(r"(?:Error Message|errorMessage|\"errorMessage\")\s*:\s*\"?(?P<msg>.+)")
# Go's "error: ..." and kubectl's "Error from server (Forbidden): ...".
_GO_ERROR_LINE = re.compile(r"(?:^|\s)(?:error|Error)(?: from server(?: \(\w+\))?)?:\s+(?P<msg>.+)")
_STATUS_BY_REASON = {
    "Forbidden": 403,
    "Unauthorized": 401,
    "NotFound": 404,
    "AlreadyExists": 409,
    "Conflict": 409,
    "Invalid": 422,
    "InternalError": 500,
}


@dataclass(frozen=True, slots=True)
class ApiCall:
    """The API request a failure names, as far as its text tells."""

    verb: str | None = None
    resource: str | None = None
    name: str | None = None
    namespace: str | None = None
    url: str | None = None
    status: int | None = None
    reason: str | None = None  # Status.reason: Forbidden, Invalid, InternalError ...
    message: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "verb": self.verb,
            "resource": self.resource,
            "name": self.name,
            "namespace": self.namespace,
            "url": self.url,
            "status": self.status,
            "reason": self.reason,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class ErrorChain:
    """One error and its causes: the first line, the deepest ``Caused by``, the API call."""

    first: Line
    exception: str | None = None  # the top exception class, without the thread wrapper
    causes: tuple[Line, ...] = ()
    api: ApiCall | None = None

    @property
    def root(self) -> Line:
        return self.causes[-1] if self.causes else self.first


@dataclass(frozen=True, slots=True)
class FailureSummary:
    """What the text shows failed, known issue or not."""

    chains: tuple[ErrorChain, ...] = ()
    signals: tuple[tuple[str, Line], ...] = ()  # ("OOMKilled", line), ("exit code 137", line) ...
    app_state: str | None = None
    app_error: Line | None = None

    @property
    def found(self) -> bool:
        return bool(self.chains or self.signals or self.app_state)

    @property
    def first(self) -> ErrorChain | None:
        return self.chains[0] if self.chains else None

    @property
    def api(self) -> ApiCall | None:
        return next((c.api for c in self.chains if c.api is not None), None)


@dataclass
class FailureTracker:
    """Feed failure-candidate lines in order; ``summary()`` any time."""

    chains: list[ErrorChain] = field(default_factory=list)
    warn_chains: list[ErrorChain] = field(default_factory=list)
    signals: list[tuple[str, Line]] = field(default_factory=list)
    app_state: str | None = None
    app_error: Line | None = None
    _open: int | None = None  # index into chains of the chain Caused-by lines attach to
    _open_in_warn: bool = False

    def feed(self, line: Line) -> None:
        text = line.text
        if _FRAME.match(text):
            return
        # The app state and container signals first: kubectl prints an errorMessage that starts
        # with spark-submit's own chatter (NativeCodeLoader ...) on one line.
        self._app(line)
        self._signal(line)
        if _NOISE.search(text):
            return
        if self._caused_by(line):
            return
        if self._status(text):
            return
        level = _level(text)
        exc = _exception(text)
        api = _api_call(text)
        if level in ("INFO", "DEBUG", "TRACE") and exc is None:
            return
        quiet = exc is None and api is None and level not in ("ERROR", "FATAL", "SEVERE")
        if quiet and not _GO_ERROR_LINE.search(text) and not _is_event_warning(text):
            return
        if self._extends_open_chain(line, exc, api):
            return
        chain = ErrorChain(first=line, exception=exc, api=api)
        target = self.warn_chains if level in ("WARN", "WARNING") else self.chains
        if len(target) < MAX_CHAINS and not any(c.first.text == line.text for c in target):
            target.append(chain)
            self._open = len(target) - 1
            self._open_in_warn = target is self.warn_chains
        else:
            self._open = None

    def summary(self) -> FailureSummary:
        chains = self.chains or self.warn_chains
        return FailureSummary(tuple(chains), tuple(self.signals), self.app_state, self.app_error)

    # -- pieces --------------------------------------------------------------------------------

    def _target(self) -> list[ErrorChain]:
        return self.warn_chains if self._open_in_warn else self.chains

    def _extends_open_chain(self, line: Line, exc: str | None, api: ApiCall | None) -> bool:
        """An exception line right under an ERROR line ("Error initializing SparkContext.") is
        the same failure; so is the API failure quoted by the exception that wraps it."""
        if self._open is None:
            return False
        target = self._target()
        chain = target[self._open]
        if exc is not None and chain.exception is None and _level(line.text) is None:
            target[self._open] = replace(chain, exception=exc, causes=(*chain.causes, line))
            if api is not None and chain.api is None:
                target[self._open] = replace(target[self._open], api=api)
            return True
        return False

    def _caused_by(self, line: Line) -> bool:
        m = _CAUSED_BY.match(line.text)
        if not m:
            return False
        if self._open is None and len(self.chains) < MAX_CHAINS:
            # The top of the trace was cut off (a truncated errorMessage): the cause leads.
            self.chains.append(ErrorChain(first=line, exception=m["cls"], api=_api_call(line.text)))
            self._open, self._open_in_warn = len(self.chains) - 1, False
        elif self._open is not None:
            target = self._target()
            chain = target[self._open]
            api = chain.api or _api_call(line.text)
            target[self._open] = replace(chain, causes=(*chain.causes, line), api=api)
        return True

    def _status(self, text: str) -> bool:
        """``Received status: Status(... code=500 ...)`` completes the open chain's API call."""
        m = _RECEIVED_STATUS.search(text)
        if not m or self._open is None:
            return False
        target = self._target()
        chain = target[self._open]
        api = chain.api or ApiCall()
        code = _STATUS_CODE.search(m["body"])
        reason = _STATUS_REASON.search(m["body"])
        api = replace(
            api,
            status=api.status or (int(code["code"]) if code else None),
            reason=api.reason or (reason["reason"] if reason else None),
        )
        target[self._open] = replace(chain, api=api)
        # The line may also start a message ("... Received status" after "Message: ...").
        return not _FAILURE_EXECUTING.search(text)

    def _signal(self, line: Line) -> None:
        if len(self.signals) >= MAX_SIGNALS:
            return
        text = line.text
        found: list[str] = []
        m = _EXIT.search(text)
        if m and m["code"] != "0":
            found.append(f"exit code {m['code']}" + (f" ({m['reason']})" if m["reason"] else ""))
        found += [m["reason"] for m in _CONTAINER_REASON.finditer(text)]
        event = _EVENT_WARNING.search(text)
        if event and _is_event_warning(text):
            found.append(f"event {event['reason']}")
        for name in dict.fromkeys(found):
            if not any(name == s for s, _ in self.signals):
                self.signals.append((name, line))

    def _app(self, line: Line) -> None:
        state = _APP_STATE.search(line.text)
        if state and self.app_state is None:
            self.app_state = state["state"]
        err = _APP_ERROR.search(line.text)
        if err and self.app_error is None:
            self.app_error = line


def _level(text: str) -> str | None:
    head = text[:120]
    if m := _GLOG.match(head):
        return _GLOG_LEVELS[m["level"]]
    if m := _JSON_LEVEL.search(head):
        return m["level"].upper()
    if m := _LEVEL.search(head):
        return "WARN" if m["level"] == "WARNING" else m["level"]
    return None


def _exception(text: str) -> str | None:
    body = _THREAD_WRAPPER.sub("", text, count=1)
    m = _EXCEPTION.search(body) or _PYTHON_EXCEPTION.match(text)
    if not m:
        return None
    # "... Message: Forbidden!..." inside prose is not an exception line; a class name is.
    return m["cls"]


def _is_event_warning(text: str) -> bool:
    """A ``Warning <Reason>`` row of an event listing, not a log line that says Warning."""
    return _EVENT_WARNING.search(text) is not None and _level(text) is None


def _api_call(text: str) -> ApiCall | None:
    if m := _KUBESPARK_CALL.search(text):
        call = _from_url(m["verb"], m["url"], m["msg"])
        return replace(call, status=int(m["code"]), reason=m["reason"] or call.reason)
    if m := _FAILURE_EXECUTING.search(text):
        call = _from_url(m["verb"], m["url"], m["msg"])
        status = _STATUS_CODE.search(text) if "Received status" in text else None
        return replace(call, status=int(status["code"]) if status else call.status)
    if m := _OPERATION.search(text):
        return ApiCall(
            verb=m["verb"], resource=m["kind"], name=m["name"] or None, namespace=m["ns"] or None
        )
    if m := _GO_FORBIDDEN.search(text):
        who = _FORBIDDEN.search(m["msg"])
        return ApiCall(
            verb=who["verb"] if who else None,
            resource=(who["res"] if who else m["res"]),
            name=m["name"] or None,
            status=403,
            reason="Forbidden",
            message=m["msg"],
        )
    if m := _NOT_FOUND.search(text):
        return ApiCall(verb=m["verb"].upper(), resource=m["res"], status=404, reason="NotFound")
    if m := _INVALID.search(text):
        return ApiCall(
            resource=m["kind"], name=m["name"], status=422, reason="Invalid", message=m["msg"]
        )
    if m := _NO_MATCH.search(text):
        return ApiCall(resource=f"{m['kind']} ({m['gv']})", reason="NoKindMatch")
    if m := _ALREADY.search(text):
        return ApiCall(resource=m["res"], name=m["name"], status=409, reason="AlreadyExists")
    if _UNAUTHORIZED.search(text) and ("Exception" in text or "Message" in text):
        return ApiCall(status=401, reason="Unauthorized")
    return None


_PATH = re.compile(
    r"^/(?:api/(?P<v>v1)|apis/(?P<g>[^/]+)/(?P<gv>[^/]+))"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$"
)


def _from_url(verb: str, url: str, message: str | None) -> ApiCall:
    parts = urlsplit(url)
    m = _PATH.match(parts.path)
    if not m:
        return ApiCall(verb=verb, url=url, message=message)
    resource = m["res"] if m["v"] else f"{m['res']}.{m['g']}"
    if m["sub"]:
        resource += f"/{m['sub']}"
    status = _STATUS_BY_REASON.get(_reason_in(message or "") or "") or _status_in(message or "")
    named = _NAMED_OBJECT.search(message or "")
    return ApiCall(
        verb=verb,
        resource=resource,
        # A create's URL ends at the collection; the message still names the object.
        name=m["name"] or (named["name"] if named else None),
        namespace=m["ns"],
        url=url,
        status=status,
        message=message,
    )


_NAMED_OBJECT = re.compile(
    r'[\w.-]+ \\?"(?P<name>[^"\\]+)\\?" (?:is forbidden|already exists|is invalid|not found)'
)
# The Go client's wording when fabric8's message has no Status.reason (code=... may be cut off).
_STATUS_BY_WORDING = (
    ("is forbidden", 403),
    ("already exists", 409),
    ("is invalid", 422),
    ("Unauthorized", 401),
)


def _status_in(message: str) -> int | None:
    code = _STATUS_CODE.search(message)
    if code:
        return int(code["code"])
    return next((status for words, status in _STATUS_BY_WORDING if words in message), None)


def _reason_in(message: str) -> str | None:
    m = _STATUS_REASON.search(message)
    return m["reason"] if m else None
