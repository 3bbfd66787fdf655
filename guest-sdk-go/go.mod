module github.com/molotov-wasm/molotov/guest-sdk-go

go 1.25

require go.bytecodealliance.org/pkg v0.2.3
