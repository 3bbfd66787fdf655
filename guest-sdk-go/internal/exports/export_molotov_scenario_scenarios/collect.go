package export_molotov_scenario_scenarios

// Go's collector runs only at safe points the SDK chooses, never on its own.
//
// The component model forbids a guest to call an import while the host is
// inside its cabi_realloc (the host trap "cannot leave component instance").
// Go's allocator may start or finish a collection inside any allocation,
// cabi_realloc's included, and a collection reads the wall clock, an import
// (go.bytecodealliance.org/pkg pauses only the monotonic one). So automatic
// collection is off, and the SDK collects where the guest may call out: when
// an export's user code has returned, and before each request. The pacing is
// GOGC=100's: collect once the heap has doubled since the last collection,
// and not below 4 MiB.
//
// The safe points also unpin what cabi_realloc allocated for imports'
// results: the generated bindings unpin it only on entry to an export that
// takes a string or list, so a worker's runs would pin (and keep) every
// response body until then. Once lifted, those values are ordinary Go values.

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"

	witRuntime "go.bytecodealliance.org/pkg/wit/runtime"
)

const minimumHeapGoal = 4 << 20

var (
	heapSample = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heapGoal   = uint64(minimumHeapGoal)
)

func init() {
	debug.SetGCPercent(-1)
}

// Collect unpins what imports' results no longer need and runs a collection if
// the heap has grown past its goal; call it only where the guest may call
// imports (never from cabi_realloc), and never while a result is being lifted.
func Collect() {
	witRuntime.Unpin()
	metrics.Read(heapSample)
	if heapSample[0].Value.Uint64() < heapGoal {
		return
	}
	runtime.GC()
	metrics.Read(heapSample)
	heapGoal = max(2*heapSample[0].Value.Uint64(), minimumHeapGoal)
}
