//! Nodes running in this process on loopback TCP.

mod encryption;
mod gating;
mod mesh;
mod partition;
mod proximity;
