//! Every Twisted name this crate implements, and its Rust spelling.
//!
//! Each table reads *Twisted | Rust | notes*, and every Rust entry links to its item.
//! rustdoc's search knows the Twisted spellings too: ported items carry a
//! `#[doc(alias)]`, so searching `addCallback` or `callLater` finds them.
//!
//! Each section below is kept beside the module it describes, under `src/porting/`.
#![doc = include_str!("porting/failure.md")]
#![doc = include_str!("porting/defer.md")]
#![doc = include_str!("porting/time.md")]
#![doc = include_str!("porting/task.md")]
#![doc = include_str!("porting/reactor.md")]
#![doc = include_str!("porting/threads.md")]
#![doc = include_str!("porting/endpoints.md")]
#![doc = include_str!("porting/protocol.md")]
#![doc = include_str!("porting/testing.md")]
#![doc = include_str!("porting/basic.md")]
#![doc = include_str!("porting/adbapi.md")]
#![doc = include_str!("porting/service.md")]
#![doc = include_str!("porting/tokio.md")]
#![doc = include_str!("porting/not_implemented.md")]
