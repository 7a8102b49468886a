//! Every integration test of the workspace, in one test binary (each binary costs a link of
//! libp2p on a small machine).
//!
//! - `cli`: the real `entente` binary, one process per command, records carried as files.
//! - `net`: nodes running in this process, talking over loopback TCP.
//! - `bench`: a smoke run of the benchmark binary.

mod bench;
mod cli;
mod net;
mod web;
