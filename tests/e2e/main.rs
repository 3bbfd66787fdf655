//! End-to-end tests: the real `molotov` binary, guest components compiled from
//! source, and a real HTTP server on 127.0.0.1.

mod egress;
mod engine;
mod fail_fast;
mod footprint;
mod grpc;
mod junit;
mod k6;
mod languages;
mod library;
mod lifecycle;
mod live;
mod load_models;
mod molotov_files;
mod parity;
mod projects;
mod reports;
mod shards;
mod shared;
mod slurm;
mod support;
mod target;
