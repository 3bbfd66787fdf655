// Package export_molotov_scenario_driver runs many workers in one instance:
// each run the host orders is a goroutine, whose requests start without
// waiting (multiplex.start-send) and park it until the reply comes, so the
// instance's other workers run meanwhile. Scenarios stay plain functions.
//
// Goroutines run only while an export runs, and an export's goroutine must
// not block: the driver yields (runtime.Gosched) until no goroutine is
// runnable, and only then waits in the host (multiplex.next).
package export_molotov_scenario_driver

import (
	"container/heap"
	"runtime"
	"runtime/metrics"
	"time"

	scenarios "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_scenarios"
	grpc "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_grpc"
	http "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_http"
	mx "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex"
	mxgrpc "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex_grpc"
	mxio "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_multiplex_io"
	witTypes "go.bytecodealliance.org/pkg/wit/types"
)

// Workers per instance: goroutines never wait in place.
const sharedCapacity = 128

// Outcome is a request's reply or error.
type Outcome = witTypes.Result[http.Reply, http.HttpError]

var (
	driving bool
	running *mx.RunOrder
	replies = map[uint32]chan Outcome{}
	// Socket and stream tickets not yet answered.
	ioWaiting = map[uint32]chan mxio.Outcome{}
	// gRPC calls not yet answered.
	grpcWaiting = map[uint32]chan GrpcOutcome{}
	sessions    = map[uint32]*http.Session{}
	timers      timerHeap
	// Goroutines parked on the driver's channels, and runs not yet finished:
	// fewer parked than running means a run waits on something else (a Go
	// timer, a channel of its own), and the host is polled for it.
	parked, inFlight int
	runnable         = []metrics.Sample{{Name: "/sched/goroutines/runnable:goroutines"}}
)

func Capacity() uint32 { return sharedCapacity }

func Drive() witTypes.Result[witTypes.Unit, string] {
	driving = true
	defer func() { driving, running = false, nil }()
	for {
		settle()
		// A safe point: no import is being lifted, none is in cabi_realloc.
		scenarios.Collect()
		turn := mx.Next(timeout())
		if turn.Tag() == mx.TurnHandBack {
			return witTypes.Ok[witTypes.Unit, string](witTypes.Unit{})
		}
		for _, wakeup := range turn.Wakeups() {
			switch wakeup.Tag() {
			case mx.WakeupRun:
				start(wakeup.Run())
			case mx.WakeupReplied:
				replied := wakeup.Replied()
				if reply, ok := replies[replied.Ticket]; ok {
					delete(replies, replied.Ticket)
					reply <- replied.Outcome
				}
			}
		}
		if len(ioWaiting) > 0 {
			for _, done := range mxio.Completed() {
				answer(ioWaiting, done.Ticket, done.Outcome)
			}
		}
		if len(grpcWaiting) > 0 {
			for _, done := range mxgrpc.Completed() {
				answer(grpcWaiting, done.Ticket, done.Outcome)
			}
		}
		fireTimers()
	}
}

// settle lets every runnable goroutine run until it parks or ends.
func settle() {
	for {
		runtime.Gosched()
		metrics.Read(runnable)
		if runnable[0].Value.Uint64() == 0 {
			return
		}
	}
}

func start(order mx.RunOrder) {
	session, ok := sessions[order.WorkerId]
	if !ok {
		session = mx.SessionOf(order.WorkerId)
		sessions[order.WorkerId] = session
	}
	inFlight++
	go func() {
		running = &order
		err := scenarios.RunScenario(order.Index, session)
		inFlight--
		mx.Finished(order.Job, scenarios.Outcome(err))
	}()
}

func timeout() witTypes.Option[uint32] {
	if parked < inFlight {
		return witTypes.Some[uint32](1)
	}
	if len(timers) == 0 {
		return witTypes.None[uint32]()
	}
	wait := time.Until(timers[0].at).Milliseconds()
	return witTypes.Some(uint32(max(0, min(wait, 1<<31))))
}

// park waits on reply as the current run, and resumes as it.
func park[T any](reply chan T) T {
	me := running
	parked++
	value := <-reply
	parked--
	running = me
	return value
}

// Running is the run whose goroutine runs now, or nil outside a shared instance.
func Running() *mx.RunOrder {
	if !driving {
		return nil
	}
	return running
}

// Send starts req on session and parks the calling run until its reply;
// outside a shared instance's driver, it waits in the host.
func Send(session *http.Session, req http.Request) Outcome {
	if !driving {
		scenarios.Collect()
		return session.Send(req)
	}
	reply := make(chan Outcome, 1)
	replies[mx.StartSend(session, req)] = reply
	return park(reply)
}

// Io starts a socket's or stream's call (start returns its ticket) and
// parks the calling run until it completes; outside a shared instance's
// driver, inPlace makes the call, waiting in the host.
func Io(start func() uint32, inPlace func() mxio.Outcome) mxio.Outcome {
	return ticketed(ioWaiting, start, inPlace)
}

// GrpcOutcome is what a gRPC call came to.
type GrpcOutcome = witTypes.Result[grpc.Reply, http.HttpError]

// Grpc is Io for a gRPC call.
func Grpc(start func() uint32, inPlace func() GrpcOutcome) GrpcOutcome {
	return ticketed(grpcWaiting, start, inPlace)
}

// ticketed parks the calling run until start's ticket is answered through
// waiting, or makes the call in place outside a shared instance's driver.
func ticketed[T any](waiting map[uint32]chan T, start func() uint32, inPlace func() T) T {
	if !driving {
		scenarios.Collect()
		return inPlace()
	}
	done := make(chan T, 1)
	waiting[start()] = done
	return park(done)
}

// answer hands a completed ticket's outcome to the run that waits for it.
func answer[T any](waiting map[uint32]chan T, ticket uint32, outcome T) {
	if wait, ok := waiting[ticket]; ok {
		delete(waiting, ticket)
		wait <- outcome
	}
}

// Sleep parks the calling run for d; outside a shared instance's driver,
// it reports false and the caller sleeps in the host.
func Sleep(d time.Duration) bool {
	if !driving {
		return false
	}
	wake := make(chan struct{}, 1)
	heap.Push(&timers, timer{at: time.Now().Add(d), wake: wake})
	park(wake)
	return true
}

func fireTimers() {
	now := time.Now()
	for len(timers) > 0 && !timers[0].at.After(now) {
		heap.Pop(&timers).(timer).wake <- struct{}{}
	}
}

type timer struct {
	at   time.Time
	wake chan struct{}
}

// timerHeap orders the parked sleeps, soonest first.
type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	last := old[len(old)-1]
	*h = old[:len(old)-1]
	return last
}
