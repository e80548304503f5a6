//! A chat server: every line a client sends goes to every other client. A client that
//! does not read cannot make the server's memory grow: the write that fills its
//! connection's buffer past 64 KiB pauses the room (registered as a producer on each
//! connection) before it returns, so the server stops reading from everyone until the
//! slow client has caught up. The
//! slowest reader throttles the room instead of being buffered without bound.
//!
//! Run it with `cargo run --example chat_server` (port 8123) or `-- --port N`, then
//! connect several clients with `nc localhost 8123` and type lines. It serves until
//! stopped with Ctrl-C; the port is printed to stderr.

use std::collections::{HashMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use tokio_twisted::basic::{LineControl, LineProtocol, LineReceiver};
use tokio_twisted::failure::Failure;
use tokio_twisted::protocol::{Address, Factory, Producer, ProducerKind, Transport};
use tokio_twisted::reactor::Reactor;

#[path = "support/port_flag.rs"]
mod port_flag;

/// Everyone connected, and who is too slow right now.
#[derive(Default)]
pub(crate) struct RoomState {
    members: HashMap<u64, Transport>,
    /// Members whose write buffer is full: while any, nobody is read from.
    slow: HashSet<u64>,
    next_id: u64,
    /// How often the room was paused, for tests and curiosity.
    pub(crate) pauses: usize,
    /// The most bytes any member's connection had waiting to be sent after a broadcast.
    pub(crate) max_buffered: usize,
}

/// The chat room, shared by every connection (and by the producers, which are `Send`).
pub(crate) type Room = Arc<Mutex<RoomState>>;

fn lock(room: &Room) -> std::sync::MutexGuard<'_, RoomState> {
    room.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RoomState {
    /// How many members are connected.
    #[allow(dead_code, reason = "for the tests, which include this file")]
    pub(crate) fn members_len(&self) -> usize {
        self.members.len()
    }
}

/// One member's view of the room as a producer feeding its connection: paused when its
/// connection's buffer passes the high-water mark, resumed once it has drained.
struct Throttle {
    id: u64,
    room: Room,
}

impl Throttle {
    /// Stops (or restarts) reading from every member when the first slow member appears
    /// (or the last one catches up).
    fn set_slow(&self, slow: bool) {
        let to_change: Vec<Transport> = {
            let mut room = lock(&self.room);
            let was_empty = room.slow.is_empty();
            if slow {
                room.slow.insert(self.id);
            } else {
                room.slow.remove(&self.id);
            }
            let now_empty = room.slow.is_empty();
            if was_empty == now_empty {
                return;
            }
            if !now_empty {
                room.pauses += 1;
            }
            room.members.values().cloned().collect()
        };
        for transport in to_change {
            if slow {
                transport.pause_producing();
            } else {
                transport.resume_producing();
            }
        }
    }
}

impl Producer for Throttle {
    fn pause_producing(&mut self) {
        self.set_slow(true);
    }

    fn resume_producing(&mut self) {
        self.set_slow(false);
    }

    fn stop_producing(&mut self) {
        self.set_slow(false);
    }
}

/// One member: joins on connect, broadcasts each line, leaves on disconnect.
pub(crate) struct Chatter {
    room: Room,
    id: Option<u64>,
}

impl LineReceiver for Chatter {
    fn connection_made(&mut self, ctl: &mut LineControl<'_>) {
        let transport = ctl.transport().clone();
        let (id, reading_paused) = {
            let mut room = lock(&self.room);
            let id = room.next_id;
            room.next_id += 1;
            room.members.insert(id, transport.clone());
            (id, !room.slow.is_empty())
        };
        self.id = Some(id);
        if reading_paused {
            transport.pause_producing();
        }
        let throttle = Throttle {
            id,
            room: Arc::clone(&self.room),
        };
        // Nothing else registers on a fresh connection.
        let _ = transport.register_producer(throttle, ProducerKind::Streaming);
    }

    fn line_received(&mut self, line: Bytes, _ctl: &mut LineControl<'_>) {
        let mut message = Vec::with_capacity(line.len() + 2);
        message.extend_from_slice(&line);
        message.extend_from_slice(b"\r\n");
        let message = Bytes::from(message);
        // The room is not locked while writing: a write that fills a member's buffer
        // pauses the room from inside the write (its `Throttle` locks the room).
        let others: Vec<Transport> = lock(&self.room)
            .members
            .iter()
            .filter(|(id, _)| Some(**id) != self.id)
            .map(|(_, transport)| transport.clone())
            .collect();
        let mut most = 0;
        for transport in others {
            transport.write_bytes(message.clone());
            most = most.max(transport.buffered());
        }
        let mut room = lock(&self.room);
        room.max_buffered = room.max_buffered.max(most);
    }

    fn connection_lost(&mut self, _reason: Failure) {
        if let Some(id) = self.id.take() {
            let mut room = lock(&self.room);
            room.members.remove(&id);
            room.slow.remove(&id);
        }
    }
}

/// Builds a member for each connection, all in one room.
pub(crate) struct ChatFactory {
    pub(crate) room: Room,
}

impl Factory for ChatFactory {
    type Protocol = LineProtocol<Chatter>;

    fn build_protocol(&mut self, _addr: &Address) -> Option<Self::Protocol> {
        Some(LineProtocol::new(Chatter {
            room: Arc::clone(&self.room),
            id: None,
        }))
    }
}

/// The port to listen on: `--port N`, 8123 by default.
pub(crate) fn port_from_args(args: impl IntoIterator<Item = String>) -> Result<u16, String> {
    port_flag::port_flag(args, 8123, "chat_server")
}

#[allow(dead_code, reason = "tests include this file for its factory")]
fn main() -> ExitCode {
    let port = match port_from_args(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(e) => {
            eprintln!("chat_server: {e}");
            return ExitCode::from(2);
        }
    };
    let reactor = match Reactor::new() {
        Ok(reactor) => reactor,
        Err(e) => {
            eprintln!("chat_server: cannot start the reactor: {e}");
            return ExitCode::FAILURE;
        }
    };
    let factory = ChatFactory {
        room: Room::default(),
    };
    match reactor.listen_tcp(port, factory) {
        Ok(listening) => eprintln!("chat server listening on {}", listening.host()),
        Err(e) => {
            eprintln!("chat_server: {e}");
            return ExitCode::FAILURE;
        }
    }
    match reactor.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("chat_server: {e}");
            ExitCode::FAILURE
        }
    }
}
