"""The component's exports, implemented from what the decorators registered."""

import sys
from types import SimpleNamespace
from typing import List

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import scenarios as wit
from wit_world.imports import context, http

from . import EVENT_KINDS, _registry
from ._aio import complete
from ._session import http_error, lend, release, run_args, session_options_headers

_FIXTURE_FLAGS = {
    "global_setup": wit.Fixtures.GLOBAL_SETUP,
    "setup": wit.Fixtures.SETUP,
    "setup_session": wit.Fixtures.SETUP_SESSION,
    "teardown_session": wit.Fixtures.TEARDOWN_SESSION,
    "teardown": wit.Fixtures.TEARDOWN,
    "global_teardown": wit.Fixtures.GLOBAL_TEARDOWN,
    "picker": wit.Fixtures.PICKER,
}

# Event variant classes by Molotov's event names.
_EVENT_NAMES = {
    wit.Event_SendingRequest: "sending_request",
    wit.Event_ResponseReceived: "response_received",
    wit.Event_CurrentWorkers: "current_workers",
    wit.Event_ScenarioStart: "scenario_start",
    wit.Event_ScenarioSuccess: "scenario_success",
    wit.Event_ScenarioFailure: "scenario_failure",
}

# The session options a `setup` fixture may return, as aiohttp names them.
_SESSION_OPTIONS = {"headers", "timeout", "max_redirects", "auth"}


def _message(error: BaseException) -> str:
    text = str(error)
    if isinstance(error, AssertionError) and error.__traceback__ is not None:
        tb = error.__traceback__
        while tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        return f"assertion failed at {where}" + (f": {text}" if text else "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _call(fn, *a):
    """Runs a scenario or fixture to its end (awaited when ``async def``);
    an exception is the call's error, with its message."""
    try:
        return complete(fn(*a))
    except Exception as e:
        raise Err(_message(e))
    finally:
        release()
        sys.stdout.flush()


def _session_options(options) -> http.SessionOptions:
    if not isinstance(options, dict):
        raise Err(f"setup returned {type(options).__name__}: a dict of session options or None")
    unsupported = sorted(set(options) - _SESSION_OPTIONS)
    if unsupported:
        raise Err(f"setup returned unsupported session options {unsupported}; "
                  f"supported: {sorted(_SESSION_OPTIONS)}")
    timeout = getattr(options.get("timeout"), "total", options.get("timeout"))
    return http.SessionOptions(
        headers=[(str(k), str(v)) for (k, v) in session_options_headers(options)],
        timeout_ms=None if timeout is None else int(timeout * 1000),
        max_redirects=options.get("max_redirects"),
    )


class _Request(SimpleNamespace):
    """What an event tells of a request (aiohttp's ``ClientRequest`` fields)."""


def _request(req) -> _Request:
    return _Request(method=req.method, url=req.url, headers=dict(req.headers),
                    body=req.body, name=req.name)


def _scenario(name: str) -> dict:
    weight, _, fn, delay = _registry.scenarios.get(name, (0, 0, None, 0.0))
    return {"name": name, "weight": weight, "delay": delay, "func": fn, "args": (), "kw": {}}


def _payload(event) -> dict:
    """Molotov's keyword arguments for ``event``."""
    value = event.value
    if isinstance(event, wit.Event_CurrentWorkers):
        return {"workers": value}
    if isinstance(event, wit.Event_SendingRequest):
        return {"session": lend(value.worker_id, None), "request": _request(value.request)}
    if isinstance(event, wit.Event_ResponseReceived):
        payload = {"session": lend(value.worker_id, None), "request": _request(value.request)}
        outcome = value.outcome
        if isinstance(outcome, Err):
            payload.update(response=None, exception=http_error(outcome.value))
        else:
            info = outcome.value
            payload["response"] = SimpleNamespace(
                status=info.status, url=info.url, elapsed_us=info.elapsed_us)
        return payload
    payload = {"scenario": _scenario(value.scenario), "wid": value.worker_id}
    if isinstance(event, wit.Event_ScenarioFailure):
        payload["exception"] = AssertionError(value.message)
    return payload


class Scenarios(exports.Scenarios):
    def describe(self) -> wit.Description:
        fixtures = wit.Fixtures(0)
        for name, flag in _FIXTURE_FLAGS.items():
            if name in _registry.fixtures:
                fixtures |= flag
        kinds = wit.EventKinds(0)
        for name in {k for (ks, _) in _registry.handlers for k in ks}:
            kinds |= wit.EventKinds[name.upper()]
        infos = [wit.ScenarioInfo(name=n, weight=w, delay_ms=d)
                 for n, (w, d, _, _) in _registry.scenarios.items()]
        return wit.Description(scenarios=infos, fixtures=fixtures, events=kinds)

    def run(self, index: int, session) -> None:
        try:
            scenario = _registry.scenario_at(index)
        except LookupError as e:
            raise Err(str(e))
        worker = lend(context.worker_id(), session)
        try:
            _call(scenario, worker)
        finally:
            worker._host = None

    def global_setup(self, args) -> None:
        _call(_registry.fixtures["global_setup"], run_args())

    def setup(self, worker_id: int, args):
        options = _call(_registry.fixtures["setup"], worker_id, run_args())
        return None if options is None else _session_options(options)

    def setup_session(self, worker_id: int, session) -> None:
        self._with_session("setup_session", worker_id, session)

    def teardown_session(self, worker_id: int, session) -> None:
        self._with_session("teardown_session", worker_id, session)

    @staticmethod
    def _with_session(kind: str, worker_id: int, session) -> None:
        worker = lend(worker_id, session)
        try:
            _call(_registry.fixtures[kind], worker_id, worker)
        finally:
            worker._host = None

    def teardown(self, worker_id: int) -> None:
        _call(_registry.fixtures["teardown"], worker_id)

    def global_teardown(self) -> None:
        _call(_registry.fixtures["global_teardown"])

    def pick(self, worker_id: int, step: int) -> str:
        return complete(_registry.fixtures["picker"](worker_id, step))

    def on_events(self, events: List[wit.Event]) -> None:
        for event in events:
            name = _EVENT_NAMES[type(event)]
            payload = None
            for kinds, handler in _registry.handlers:
                if name in kinds:
                    payload = payload or _payload(event)
                    complete(handler(name, **payload))
        sys.stdout.flush()


assert set(_EVENT_NAMES.values()) == set(EVENT_KINDS)


from ._driver import Driver  # noqa: E402,F401 - the component's other export
