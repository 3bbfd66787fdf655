package molotov

import (
	"fmt"
	"time"

	driver "github.com/molotov-wasm/molotov/guest-sdk-go/internal/exports/export_molotov_scenario_driver"
	ctx "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_context"
	logging "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_log"
	metrics "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_metrics"
	vars "github.com/molotov-wasm/molotov/guest-sdk-go/internal/wit/molotov_scenario_vars"
)

// Env returns a variable the operator passed with --env KEY=VALUE.
func Env(key string) (string, bool) {
	value := ctx.Env(key)
	return value.SomeOr(""), value.IsSome()
}

// Shard is this run's shard of a larger one (--shard I/N); ok is false
// when the run is not sharded.
func Shard() (index, count uint32, ok bool) {
	i, iok := Env("MOLOTOV_SHARD")
	n, nok := Env("MOLOTOV_SHARD_COUNT")
	if !iok || !nok {
		return 0, 0, false
	}
	_, err := fmt.Sscan(i+" "+n, &index, &count)
	return index, count, err == nil
}

// WorkerID is this worker's id, from 0. In a shared instance, exact unless
// the scenario waits on goroutines or channels of its own.
func WorkerID() uint32 {
	if run := driver.Running(); run != nil {
		return run.WorkerId
	}
	return ctx.WorkerId()
}

// Step counts the scenarios this worker has started, the current one included.
func Step() uint64 {
	if run := driver.Running(); run != nil {
		return run.Step
	}
	return ctx.Step()
}

// Args are the run's settings.
func Args() RunArgs { return ctx.Args() }

// Sleep suspends this worker (not the others) for ms milliseconds.
func Sleep(ms uint32) {
	if !driver.Sleep(time.Duration(ms) * time.Millisecond) {
		ctx.Sleep(ms)
	}
}

// GetVar reads a variable shared by every worker of the run.
func GetVar(key string) (string, bool) {
	value := vars.Get(key)
	return value.SomeOr(""), value.IsSome()
}

// SetVar sets a variable for every worker of the run.
func SetVar(key, value string) { vars.Set(key, value) }

// Print writes a line on the console (not under -q).
func Print(message string) { logging.Print(message) }

// Log levels, shown according to the operator's verbosity.
const (
	Debug = logging.LevelDebug
	Info  = logging.LevelInfo
	Warn  = logging.LevelWarn
	Error = logging.LevelError
)

// Log writes a line at the given level.
func Log(level logging.Level, message string) { logging.Log(level, message) }

// Incr adds delta to the custom counter name.
func Incr(name string, delta int64) { metrics.Incr(name, delta) }

// Timing records a duration in microseconds in the custom histogram name.
func Timing(name string, us uint64) { metrics.Timing(name, us) }

// Gauge sets the custom gauge name (reported as its last, lowest and highest value).
func Gauge(name string, value float64) { metrics.Gauge(name, value) }
