//! A delegation's node: key store, SQLite store, the libp2p network and the `entente` commands.
//! The rules live in `entente-protocol`; this crate moves, stores and shows bytes.

pub mod cli;
pub mod commands;
pub mod home;
pub mod identity;
pub mod keystore;
pub mod net;
pub mod output;
pub mod render;
pub mod store;
pub mod workspace;
