//! Every Twisted name this crate implements, and its Rust spelling.
//!
//! Each section below is kept beside the module it describes.
#![doc = include_str!("porting/defer.md")]
#![doc = include_str!("porting/task.md")]
#![doc = include_str!("porting/reactor.md")]
