//! Validly signed and sealed negotiations whose content the input chooses, through verification,
//! folding, keyrings, drafting and public texts (see `src/negotiation.rs`).
#![no_main]

use std::sync::OnceLock;

use entente_fuzz::Room;
use libfuzzer_sys::fuzz_target;

static ROOM: OnceLock<Room> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let room = ROOM.get_or_init(Room::new);
    entente_fuzz::negotiation::run(data, room);
});
