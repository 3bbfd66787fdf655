"""The component's exports, implemented from what the decorators registered."""

from typing import List

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import scenarios as wit
from wit_world.imports import http

from . import EVENT_KINDS, Session, _registry, _release

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
    try:
        return fn(*a)
    except Exception as e:
        raise Err(_message(e))
    finally:
        _release()


def _info(event) -> dict:
    value = event.value
    if isinstance(event, wit.Event_CurrentWorkers):
        return {"workers": value}
    if isinstance(event, wit.Event_ResponseReceived):
        return {"worker_id": value.worker_id, "request": value.request, "response": value.outcome}
    return {k: getattr(value, k) for k in value.__dataclass_fields__}


class Scenarios(exports.Scenarios):
    def describe(self) -> wit.Description:
        fixtures = wit.Fixtures(0)
        for name, flag in _FIXTURE_FLAGS.items():
            if name in _registry.fixtures:
                fixtures |= flag
        kinds = wit.EventKinds(0)
        for name in _registry.events:
            kinds |= wit.EventKinds[name.upper()]
        infos = [wit.ScenarioInfo(name=n, weight=w, delay_ms=d)
                 for n, (w, d, _) in _registry.scenarios.items()]
        return wit.Description(scenarios=infos, fixtures=fixtures, events=kinds)

    def run(self, index: int, session) -> None:
        if _registry.in_order is None:
            _registry.in_order = [fn for (_, _, fn) in _registry.scenarios.values()]
        if index >= len(_registry.in_order):
            raise Err(f"no scenario at index {index}")
        _call(_registry.in_order[index], Session(session))

    def global_setup(self, args) -> None:
        _call(_registry.fixtures["global_setup"], args)

    def setup(self, worker_id: int, args):
        options = _call(_registry.fixtures["setup"], worker_id, args)
        if options is None:
            return None
        timeout = options.get("timeout")
        return http.SessionOptions(
            headers=list(options.get("headers", {}).items()),
            timeout_ms=None if timeout is None else int(timeout * 1000),
            max_redirects=options.get("max_redirects"),
        )

    def setup_session(self, worker_id: int, session) -> None:
        _call(_registry.fixtures["setup_session"], worker_id, Session(session))

    def teardown_session(self, worker_id: int, session) -> None:
        _call(_registry.fixtures["teardown_session"], worker_id, Session(session))

    def teardown(self, worker_id: int) -> None:
        _call(_registry.fixtures["teardown"], worker_id)

    def global_teardown(self) -> None:
        _call(_registry.fixtures["global_teardown"])

    def pick(self, worker_id: int, step: int) -> str:
        return _registry.fixtures["picker"](worker_id, step)

    def on_events(self, events: List[wit.Event]) -> None:
        hook = _registry.fixtures["events"]
        for event in events:
            hook(_EVENT_NAMES[type(event)], **_info(event))


assert set(_EVENT_NAMES.values()) == set(EVENT_KINDS)
