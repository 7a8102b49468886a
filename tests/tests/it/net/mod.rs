//! Nodes running in this process on loopback TCP.

mod encryption;
mod gating;
mod hostile;
mod mesh;
mod partition;
mod posting;
mod proximity;
