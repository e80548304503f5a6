//! Conformance tests: the behaviour of Twisted's own test modules, ported one file per
//! Twisted module. Each test carries a `/// twisted: Class.test_name` line; the cases
//! that do not apply are listed at the top of each file with the reason.

#[path = "../common/mod.rs"]
mod common;
#[macro_use]
mod clocks;
mod test_adbapi;
mod test_app_internet;
mod test_application;
mod test_base;
mod test_basic;
mod test_cooperator;
mod test_core;
mod test_defer;
mod test_defer_primitives;
mod test_endpoints;
mod test_factories;
mod test_failure;
mod test_internet;
mod test_protocol;
mod test_service;
mod test_strports;
mod test_task;
mod test_tcp;
mod test_threads;
#[cfg(unix)]
mod test_unix;
