//! Nodes running in this process on loopback TCP.

mod gating;
mod mesh;
