//! Multi-process tests: the real `entente` binary, one process per command, each node in its own
//! temporary home, records carried between nodes as files. The harness is `entente_tests`.
//!
//! Everything lives in this one test binary so that the workspace links one executable for them.

mod authorization;
mod drafting;
mod durability;
mod faults;
mod flow;
mod help;
mod identity;
mod network;
mod procedure;
mod record;
