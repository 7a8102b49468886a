//! A delegation's node: key store, SQLite store, the libp2p network and the `entente` commands.
//! The rules live in `entente-protocol`; this crate moves, stores and shows bytes.

pub mod actions;
pub mod api;
pub mod cli;
pub mod cli_text;
pub mod commands;
pub mod duties;
pub(crate) mod folded;
pub mod home;
pub mod identity;
pub mod keystore;
pub mod net;
pub mod output;
pub mod render;
pub mod room;
pub mod store;
pub mod verify;
pub mod views;
pub mod workspace;
